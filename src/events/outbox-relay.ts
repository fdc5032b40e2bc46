import type { Kysely } from 'kysely';
import type { Publisher } from '../adapters/bus/bus.js';
import { abortableSleep } from '../adapters/bus/resilient.js';
import { declareFinalStatement } from '../adapters/storage/group-commit.js';
import { isPostgres } from '../adapters/storage/portable.js';
import {
  directOn,
  onHeldConnection,
  Precompiled,
  runsDirect,
} from '../adapters/storage/precompiled.js';
import type { Database } from '../adapters/storage/schema.js';
import type { EventMessage } from '../adapters/bus/event-message.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { EventMetrics } from './event-metrics.js';
import type { RecordedEvents } from './recorded-events.js';
import type { RelayLease } from './relay-lease.js';

/** The topic domain events (the outbox) are published on. */
export const DOMAIN_TOPIC = 'domain';

export interface OutboxRow {
  id: string;
  position: number;
  partitionKey: string;
  /** The event's text as stored; not read when `event` is at hand. */
  envelope?: string;
  /** The event as this process recorded it (RecordedEvents), published instead of `envelope`. */
  event?: EventMessage;
  /** With `event`: its envelope's text as the row holds it (RecordedEvents). */
  text?: string;
}

type OutboxHead = Omit<OutboxRow, 'envelope' | 'event' | 'text'>;

/** Runs work in the transaction of the store's next group commit (GroupCommit.runWithNextBatch). */
export type WithNextBatch = (
  work: (trx: Kysely<Database>) => Promise<unknown>,
  withinMs: number,
) => Promise<unknown>;

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
  /**
   * Where published rows are deleted: in the next group commit of this process's
   * sends, which then costs no commit of its own. Without it the relay deletes each
   * batch itself, in a statement (a commit) of its own.
   */
  deleteWithNextBatch?: WithNextBatch;
  /** How long deletes wait for a group commit to ride before they commit alone. */
  deleteWithinMs?: number;
  /**
   * The events this process recorded: rows of these are published from memory, their
   * envelopes not read (kept only while the relay runs). Without it every row is read
   * whole and parsed.
   */
  recorded?: RecordedEvents;
}

/**
 * The hot read of the relay: the oldest rows past those it is deleting (position > ?),
 * on the primary key. Every row in the table is unpublished or published and about to
 * go, so the outbox needs no other index (migration 0016).
 *
 * The relay depends on positions never being given twice, which is why the SQLite
 * table keeps AUTOINCREMENT (a plain INTEGER PRIMARY KEY gives max(position) + 1, so
 * the positions of the newest rows come back once they are deleted, and the table
 * often runs empty):
 * - a delete names positions, and may run late or twice: a handed-over delete whose
 *   group commit failed is run again alone, and after the lease moves the new holder
 *   publishes and deletes rows the old one is still deleting. A position given again
 *   meanwhile would be an unpublished event deleted: lost, not just repeated;
 * - the read goes on past the highest position being deleted: a new row given a
 *   position below it (its rows deleted in the very batch that inserts it) would be
 *   skipped until those deletes settle, and published after rows newer than it.
 * AUTOINCREMENT costs sqlite_sequence's one page per commit: 0.04 pages per message in
 * bench/sqlite-pages.ts, no CPU it could tell (eighth session, docs/performance-log.md).
 */
const READ_BATCH = new Precompiled<OutboxRow>(
  `select id, position, partition_key, envelope from outbox_events
   where position > ? order by position limit ?`,
);

/** READ_BATCH without the envelopes, for rows whose events this process holds. */
const READ_HEADS = new Precompiled<OutboxHead>(
  `select id, position, partition_key from outbox_events
   where position > ? order by position limit ?`,
);

/**
 * The envelopes of listed positions, and the delete of published rows: the positions
 * come as one array (SQLite: JSON; PostgreSQL: a bigint array), so that one statement
 * prepared once serves every batch size (an `in (?, ?, …)` list would be a statement
 * text per size, built by Kysely each time and, on PostgreSQL, parsed and planned each
 * time too). Both search the primary key per position. MySQL keeps Kysely's `in` list.
 */
const SQLITE_ENVELOPES = new Precompiled<{ position: number; envelope: string }>(
  `select position, envelope from outbox_events
   where position in (select value from json_each(?))`,
);
const SQLITE_DELETE = new Precompiled(
  `delete from outbox_events where position in (select value from json_each(?))`,
);
const PG_ENVELOPES = new Precompiled<{ position: number | string; envelope: string }>(
  'select position, envelope from outbox_events where position = any(?::bigint[])',
);
const PG_DELETE = new Precompiled('delete from outbox_events where position = any(?::bigint[])');

/**
 * Publishes the transactional outbox to the broker: oldest first, a batch at a
 * time, each event keyed by its partition key. Rows are deleted only after the
 * broker confirmed the whole batch, so a relay that dies between publishing and
 * deleting loses nothing: the next one publishes those rows again (NATS drops the
 * repeats by msgID; consumers skip ids they already applied). Only the holder of
 * the lease publishes, which keeps the order per key with many worker processes.
 *
 * Published rows are deleted rather than marked and pruned later: the table then
 * holds only what is still to publish, and the relay reads it on the primary key
 * alone. Every message stored writes an outbox row, so each index the table does
 * not need is a tree less that each send's commit writes (issue 14).
 *
 * With `deleteWithNextBatch` the deletes ride the next group commit (usually a few
 * milliseconds later under load) instead of costing a commit each; meanwhile the
 * relay reads on past the rows it is deleting. The window in which a crash
 * republishes rows grows by that wait (at most `deleteWithinMs`).
 */
export class OutboxRelay {
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  /**
   * The deletes handed over, until each committed (or fell back), each with the highest
   * position it deletes: reads go on past the highest of them. A record per batch, not
   * a set of every position being deleted, whose hash table each batch grew and emptied
   * and which lived across the delete's commit (docs/performance-log.md, "The batch's sets
   * without per-batch tables").
   */
  private readonly handedOver: HandOver[] = [];

  constructor(private readonly deps: OutboxRelayDeps) {}

  /** Starts the loop in the background. */
  start(): void {
    this.deps.recorded?.keep(this.deps.publisher.takesText !== false);
    this.running ??= this.loop();
  }

  /** Asks the loop to look at the outbox now instead of after the poll interval. */
  nudge(): void {
    this.wake?.();
  }

  /** Stops after the batch in progress, waits for its deletes and gives the lease up. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.running;
    await Promise.allSettled(this.handedOver.map((handOver) => handOver.deleted));
    this.deps.recorded?.forget();
    await this.deps.lease.release().catch(() => undefined);
  }

  /**
   * One round: takes the lease, publishes up to one batch and deletes it (or hands
   * the deletes over). Returns how many events were relayed (0 when idle or not the
   * lease holder).
   */
  async relayOnce(): Promise<number> {
    if (!(await this.deps.lease.acquire())) {
      // Another process relays the rows this one writes: keeping their events is waste.
      this.deps.recorded?.clear();
      return 0;
    }
    const rows = await this.readBatch();
    if (rows.length === 0) return 0;
    await this.publishBatch(rows);
    if (this.deps.deleteWithNextBatch) this.handOver(rows, this.deps.deleteWithNextBatch);
    else await this.deletePublished(rows);
    return rows.length;
  }

  /**
   * The oldest rows in insert order, past those being deleted. A row whose event this
   * process recorded comes with that event instead of its envelope: then only the
   * rows' heads are read, and the envelopes of the others in a second statement.
   * Both on one connection held for them: on SQLite they run straight on the handle
   * (onHeldConnection), not through Kysely's executor (a prepare per call there).
   */
  async readBatch(): Promise<OutboxRow[]> {
    let after = 0;
    for (let i = 0; i < this.handedOver.length; i += 1) {
      after = Math.max(after, this.handedOver[i]!.highest);
    }
    return onHeldConnection(this.deps.db, (db) => this.readFrom(db, after));
  }

  private async readFrom(db: Kysely<Database>, after: number): Promise<OutboxRow[]> {
    const { recorded, batchSize } = this.deps;
    if (!recorded || recorded.isEmpty) {
      const { rows } = await READ_BATCH.execute(db, [after, batchSize]);
      // PostgreSQL and MySQL may hand BIGINT positions back as strings.
      for (const row of rows) row.position = Number(row.position);
      // Events kept while this read was on its way (their rows in it) are handed out
      // here, or they would stay kept after their rows are published and deleted.
      if (recorded && !recorded.isEmpty) {
        for (const row of rows) {
          const kept = recorded.take(row.id);
          if (kept) {
            row.event = kept.event;
            row.text = kept.text;
          }
        }
      }
      return rows;
    }
    const { rows } = await READ_HEADS.execute(db, [after, batchSize]);
    const missing: number[] = [];
    for (const row of rows as OutboxRow[]) {
      row.position = Number(row.position);
      const kept = recorded.take(row.id);
      if (kept) {
        row.event = kept.event;
        row.text = kept.text;
      } else missing.push(row.position);
    }
    if (missing.length === 0) return rows;
    const envelopes = await this.envelopesOf(db, missing);
    // A row gone by now was published and deleted by a relay that took the lease over.
    return (rows as OutboxRow[]).filter(
      (row) =>
        row.event !== undefined || (row.envelope = envelopes.get(row.position)) !== undefined,
    );
  }

  /** The envelopes of rows whose events this process does not hold, by position. */
  private async envelopesOf(
    db: Kysely<Database>,
    positions: readonly number[],
  ): Promise<Map<number, string>> {
    const rows = runsDirect(db)
      ? directOn(SQLITE_ENVELOPES, db).run([JSON.stringify(positions)]).rows
      : await this.selectEnvelopes(db, positions);
    return new Map(rows.map((row) => [Number(row.position), row.envelope]));
  }

  private async selectEnvelopes(db: Kysely<Database>, positions: readonly number[]) {
    if (isPostgres(db)) return (await PG_ENVELOPES.execute(db, [positions])).rows;
    return db
      .selectFrom('outboxEvents')
      .select(['position', 'envelope'])
      .where('position', 'in', positions)
      .execute();
  }

  /**
   * Publishes rows in order and waits for the broker's confirmation of all of them.
   * Each goes with its envelope's text (`JSON.stringify` of its event, as written by
   * EventRecorder), which a broker writing JSON sends as it is instead of stringifying
   * the event again; the in-process broker passes the event object and ignores it.
   */
  async publishBatch(rows: readonly OutboxRow[]): Promise<void> {
    await this.deps.publisher.publish(
      DOMAIN_TOPIC,
      rows.map((row) =>
        row.event
          ? { event: row.event, key: row.partitionKey, text: row.text }
          : {
              event: JSON.parse(row.envelope!) as EventMessage,
              key: row.partitionKey,
              text: row.envelope,
            },
      ),
    );
  }

  /** Deletes published rows in a statement (a commit) of its own. */
  async deletePublished(rows: readonly OutboxRow[]): Promise<void> {
    await this.delete(this.deps.db, rows);
    this.deps.metrics?.relayed.inc(rows.length);
  }

  private async delete(trx: Kysely<Database>, rows: readonly OutboxRow[]): Promise<void> {
    if (runsDirect(trx)) {
      directOn(SQLITE_DELETE, trx).write([JSON.stringify(rows.map((r) => r.position))]);
      return;
    }
    // Its one statement: the batch's COMMIT may go right behind it (finalStatement).
    const db = declareFinalStatement(trx, 1) ?? trx;
    if (isPostgres(db)) {
      await PG_DELETE.execute(db, [rows.map((r) => r.position)]);
      return;
    }
    await db
      .deleteFrom('outboxEvents')
      .where(
        'position',
        'in',
        rows.map((r) => r.position),
      )
      .execute();
  }

  /**
   * Hands the deletes of published rows to the next group commit. Should that fail,
   * the relay deletes them itself; should that fail too, the rows are published
   * again (at least once, as after a crash).
   */
  private handOver(rows: readonly OutboxRow[], withNextBatch: WithNextBatch): void {
    let highest = 0;
    for (const row of rows) highest = Math.max(highest, row.position);
    const deleted = withNextBatch(
      (trx) => this.delete(trx, rows),
      this.deps.deleteWithinMs ?? DEFAULT_DELETE_WITHIN_MS,
    )
      .then(
        () => this.deps.metrics?.relayed.inc(rows.length),
        () => this.deletePublished(rows),
      )
      .catch((err: unknown) =>
        this.deps.logger.warn({ err }, 'deleting published outbox rows failed; rows go again'),
      )
      // Runs in a later microtask, once handOver is made.
      .finally(() => this.settled(handOver));
    const handOver: HandOver = { highest, deleted };
    this.handedOver.push(handOver);
  }

  /** A handed-over delete settled: reads no longer go past its rows for it. */
  private settled(handOver: HandOver): void {
    // In no order: the last takes its place (nothing moves, nothing is allocated).
    const last = this.handedOver.pop()!;
    if (last !== handOver) this.handedOver[this.handedOver.indexOf(handOver)] = last;
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
        'position',
        'in',
        head.map((r) => r.position),
      )
      .execute();
  }

  private async pause(ms: number): Promise<void> {
    // Woken by nudge() and by stop() (which aborts `stopping` first, then wakes), so the
    // sleep needs no AbortSignal.any([stopping, wakeUp]): on Node 20 each any() leaves a
    // WeakRef on the long-lived `stopping` signal that is never dropped, one per poll (an
    // idle server's heap grew by about 25 MB a day), and a scavenge keeps what a WeakRef
    // points to (docs/performance-log.md, "What a private message leaves behind").
    const wakeUp = new AbortController();
    this.wake = () => wakeUp.abort();
    if (!this.stopping.signal.aborted) await abortableSleep(ms, wakeUp.signal);
    this.wake = undefined;
  }
}

/** Published rows whose delete rides a group commit (OutboxRelay.handOver). */
interface HandOver {
  /** The highest position among them. */
  highest: number;
  /** Settles once they are deleted, or the relay gave up on them (they go again). */
  deleted: Promise<void>;
}

/** How long deletes wait for a group commit by default: short, so a crash republishes little. */
const DEFAULT_DELETE_WITHIN_MS = 50;
