import type { Kysely } from 'kysely';
import { Precompiled } from '../adapters/storage/precompiled.js';
import type { Database } from '../adapters/storage/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { DomainEventAggregates, DomainEventMap, DomainEventType } from './domain-events.js';
import type { EventMessage } from '../adapters/bus/event-message.js';

/** Current payload version written by this code. */
export const EVENT_VERSION = 1;

/** One outbox row; run for every message stored, so precompiled. */
const INSERT = new Precompiled(
  `insert into outbox_events (id, type, aggregate, partition_key, envelope, created_at,
     published_at, attempts)
   values (?, ?, ?, ?, ?, ?, null, 0)`,
);

/**
 * Writes domain events into the outbox inside the caller's transaction, so an
 * event exists if and only if the state change it describes was committed. A
 * relay publishes outbox rows to the broker after commit.
 */
export class EventRecorder {
  constructor(
    private readonly deps: {
      clock: Clock;
      source: string;
      /** Each type's aggregate (src/catalogue/domain-events.ts). */
      schemas: DomainEventAggregates;
      /**
       * Told of each event once its row is written, still inside the transaction:
       * an in-memory cache of what the event changes stops trusting it here and
       * now, before the relay brings the event back (SocialAccessCache).
       */
      onRecorded?: (event: EventMessage) => void;
    },
  ) {}

  async record<K extends DomainEventType>(
    trx: Kysely<Database>,
    type: K,
    partitionKey: string,
    payload: DomainEventMap[K],
    traceId?: string,
  ): Promise<EventMessage<DomainEventMap[K]>> {
    const event: EventMessage<DomainEventMap[K]> = {
      id: newId(),
      type,
      aggregate: this.deps.schemas[type].aggregate,
      timestamp: this.deps.clock(),
      payload,
      metadata: {
        source: this.deps.source,
        version: EVENT_VERSION,
        ...(traceId ? { traceId } : {}),
      },
    };
    await INSERT.execute(trx, [
      event.id,
      type,
      event.aggregate,
      partitionKey,
      JSON.stringify(event),
      event.timestamp,
    ]);
    this.deps.onRecorded?.(event);
    return event;
  }
}
