import type { Kysely } from 'kysely';
import type { Publisher } from '../adapters/bus/bus.js';
import { abortableSleep } from '../adapters/bus/resilient.js';
import type { Database } from '../adapters/storage/schema.js';
import type { EventMessage } from '../adapters/bus/event-message.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { EventMetrics } from './event-metrics.js';
import type { RelayLease } from './relay-lease.js';

/** The topic domain events (the outbox) are published on. */
export const DOMAIN_TOPIC = 'domain';

export interface OutboxRow {
  id: string;
  position: number;
  partitionKey: string;
  envelope: string;
}

export interface OutboxRelayDeps {
  db: Kysely<Database>;
  publisher: Publisher;
  lease: RelayLease;
  clock: Clock;
  logger: Logger;
  metrics?: EventMetrics;
  batchSize: number;
  pollIntervalMs: number;
  /** Pause after a failed batch before the next try. */
  retryDelayMs: number;
}

/**
 * Publishes the transactional outbox to the broker: oldest first, a batch at a
 * time, each event keyed by its partition key. Rows are marked published only
 * after the broker confirmed the whole batch, so a relay that dies between
 * publishing and marking loses nothing: the next one publishes those rows again
 * (NATS drops the repeats by msgID; consumers skip ids they already applied).
 * Only the holder of the lease publishes, which keeps the order per key with
 * many worker processes.
 */
export class OutboxRelay {
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;

  constructor(private readonly deps: OutboxRelayDeps) {}

  /** Starts the loop in the background. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Asks the loop to look at the outbox now instead of after the poll interval. */
  nudge(): void {
    this.wake?.();
  }

  /** Stops after the batch in progress and gives the lease up. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.running;
    await this.deps.lease.release().catch(() => undefined);
  }

  /**
   * One round: takes the lease, publishes up to one batch and marks it.
   * Returns how many events were relayed (0 when idle or not the lease holder).
   */
  async relayOnce(): Promise<number> {
    if (!(await this.deps.lease.acquire())) return 0;
    const rows = await this.readBatch();
    if (rows.length === 0) return 0;
    await this.publishBatch(rows);
    await this.markPublished(rows);
    return rows.length;
  }

  /** The oldest unpublished rows, in insert order. */
  async readBatch(): Promise<OutboxRow[]> {
    return this.deps.db
      .selectFrom('outboxEvents')
      .select(['id', 'position', 'partitionKey', 'envelope'])
      .where('publishedAt', 'is', null)
      .orderBy('position')
      .limit(this.deps.batchSize)
      .execute();
  }

  /** Publishes rows in order and waits for the broker's confirmation of all of them. */
  async publishBatch(rows: readonly OutboxRow[]): Promise<void> {
    await this.deps.publisher.publish(
      DOMAIN_TOPIC,
      rows.map((row) => ({
        event: JSON.parse(row.envelope) as EventMessage,
        key: row.partitionKey,
      })),
    );
  }

  async markPublished(rows: readonly OutboxRow[]): Promise<void> {
    await this.deps.db
      .updateTable('outboxEvents')
      .set({ publishedAt: this.deps.clock() })
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    this.deps.metrics?.relayed.inc(rows.length);
  }

  /** Deletes published rows older than `before` (epoch ms). */
  async prune(before: number): Promise<number> {
    const result = await this.deps.db
      .deleteFrom('outboxEvents')
      .where('publishedAt', 'is not', null)
      .where('publishedAt', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private async loop(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      let relayed = 0;
      try {
        relayed = await this.relayOnce();
      } catch (err) {
        this.deps.metrics?.relayFailures.inc();
        this.deps.logger.warn({ err }, 'outbox relay batch failed; retrying');
        await this.countAttempt().catch(() => undefined);
        await this.pause(this.deps.retryDelayMs);
        continue;
      }
      // A full batch means more may be waiting: go again at once.
      if (relayed < this.deps.batchSize) await this.pause(this.deps.pollIntervalMs);
    }
  }

  /** Records a failed try on the head of the outbox (visible to operators). */
  private async countAttempt(): Promise<void> {
    const head = await this.readBatch();
    if (head.length === 0) return;
    await this.deps.db
      .updateTable('outboxEvents')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where(
        'id',
        'in',
        head.map((r) => r.id),
      )
      .execute();
  }

  private async pause(ms: number): Promise<void> {
    const wakeUp = new AbortController();
    this.wake = () => wakeUp.abort();
    await abortableSleep(ms, AbortSignal.any([this.stopping.signal, wakeUp.signal]));
    this.wake = undefined;
  }
}
