import type { Kysely } from 'kysely';
import { directOn, Precompiled } from '../adapters/storage/precompiled.js';
import type { Database } from '../adapters/storage/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { isJsonNumber } from '../shared/json-text.js';
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
  /** The metadata of events without a trace id: one object for all of them (frozen). */
  private readonly metadata: EventMessage['metadata'];
  /** `,"metadata":…}`: the envelope's end for events without a trace id. */
  private readonly metadataEnd: string;
  /** Per type, the envelope's text from the id's closing quote to the timestamp. */
  private readonly typeParts = new Map<string, string>();
  /** Per type, its envelopeParts. */
  private readonly envelopePartsByType = new Map<
    string,
    readonly [string, string, string, string]
  >();

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
      onRecorded?: (event: EventMessage, text: string) => void;
    },
  ) {
    this.metadata = Object.freeze({ source: deps.source, version: EVENT_VERSION });
    this.metadataEnd = ',"metadata":' + JSON.stringify(this.metadata) + '}';
  }

  /**
   * Writes the event's outbox row. `payloadJson`, when given, is `JSON.stringify(payload)`
   * written by the caller from the payload's fields (`messageSentJson`): the envelope is
   * then joined around it instead of stringified whole (envelopeText).
   */
  async record<K extends DomainEventType>(
    trx: Kysely<Database>,
    type: K,
    partitionKey: string,
    payload: DomainEventMap[K],
    traceId?: string,
    payloadJson?: string,
  ): Promise<EventMessage<DomainEventMap[K]>> {
    const event = this.build(type, payload, traceId);
    const text = this.envelopeText(event, payloadJson);
    await INSERT.execute(trx, this.outboxRow(event, partitionKey, text));
    this.deps.onRecorded?.(event, text);
    return event;
  }

  /** record, synchronously, in a transaction where runsDirect (SQLite). */
  recordNow<K extends DomainEventType>(
    trx: Kysely<Database>,
    type: K,
    partitionKey: string,
    payload: DomainEventMap[K],
    payloadJson?: string,
  ): EventMessage<DomainEventMap[K]> {
    const event = this.build(type, payload, undefined);
    const text = this.envelopeText(event, payloadJson);
    directOn(INSERT, trx).write(this.outboxRow(event, partitionKey, text));
    this.deps.onRecorded?.(event, text);
    return event;
  }

  /** The INSERT's parameters for an event and its envelope's text. */
  private outboxRow(event: EventMessage, partitionKey: string, text: string): unknown[] {
    return [event.id, event.type, event.aggregate, partitionKey, text, event.timestamp];
  }

  /**
   * `JSON.stringify(event)`, byte for byte. With the payload's JSON at hand (and the
   * shared metadata, a finite timestamp, and a ULID for id, which has nothing to
   * escape: always so for `build`'s events without a trace id) it is written as a
   * template around that text: the generic stringify of the envelope with its payload
   * and metadata objects was two thirds of the record's JavaScript (docs/performance-log.md,
   * "A message's event written as text").
   */
  private envelopeText(event: EventMessage, payloadJson: string | undefined): string {
    if (
      payloadJson === undefined ||
      event.metadata !== this.metadata ||
      !isJsonNumber(event.timestamp)
    ) {
      return JSON.stringify(event);
    }
    return (
      '{"id":"' +
      event.id +
      this.typePart(event) +
      String(event.timestamp) +
      ',"payload":' +
      payloadJson +
      this.metadataEnd
    );
  }

  /** `","type":…,"aggregate":…,"timestamp":` of the event's type, made once per type. */
  private typePart(event: Pick<EventMessage, 'type' | 'aggregate'>): string {
    let part = this.typeParts.get(event.type);
    if (part === undefined) {
      part =
        '","type":' +
        JSON.stringify(event.type) +
        ',"aggregate":' +
        JSON.stringify(event.aggregate) +
        ',"timestamp":';
      this.typeParts.set(event.type, part);
    }
    return part;
  }

  /**
   * The texts of an envelope around its id, timestamp and payload, for a statement that
   * writes an outbox row's envelope itself from the row's columns: the envelope of an
   * event `stamp` gave is `parts[0] + id + parts[1] + timestamp + parts[2] +
   * JSON.stringify(payload) + parts[3]`, exactly as envelopeText writes it (a ULID for
   * id, nothing to escape; the shared metadata). Nothing of the envelope is then made
   * or held per event while the statement runs (docs/performance-log.md, "A private
   * message's batch without its envelope texts").
   */
  envelopeParts(type: DomainEventType): readonly [string, string, string, string] {
    let parts = this.envelopePartsByType.get(type);
    if (parts === undefined) {
      const typePart = this.typePart({ type, aggregate: this.deps.schemas[type].aggregate });
      parts = ['{"id":"', typePart, ',"payload":', this.metadataEnd];
      this.envelopePartsByType.set(type, parts);
    }
    return parts;
  }

  /** The aggregate of `type`'s events (their outbox rows' `aggregate`). */
  aggregateOf(type: DomainEventType): string {
    return this.deps.schemas[type].aggregate;
  }

  /** The id and timestamp of an event whose row a statement writes (envelopeParts). */
  stamp(): EventStamp {
    return { id: newId(), timestamp: this.deps.clock() };
  }

  /**
   * Tells the onRecorded listener of an event whose row the caller's statement wrote
   * with its envelope made from its stamp (`id`, `timestamp`) and `payload` (envelopeParts), still inside the
   * transaction. `payload` holds the values as the row holds them and `payloadJson` is
   * `JSON.stringify(payload)`: the text the listener gets is then the row's.
   */
  written<K extends DomainEventType>(
    type: K,
    id: string,
    timestamp: number,
    payload: DomainEventMap[K],
    payloadJson: string,
  ): void {
    const onRecorded = this.deps.onRecorded;
    if (onRecorded === undefined) return;
    const event: EventMessage<DomainEventMap[K]> = {
      id,
      type,
      aggregate: this.deps.schemas[type].aggregate,
      timestamp,
      payload,
      metadata: this.metadata,
    };
    onRecorded(event, this.envelopeText(event, payloadJson));
  }

  private build<K extends DomainEventType>(
    type: K,
    payload: DomainEventMap[K],
    traceId: string | undefined,
  ): EventMessage<DomainEventMap[K]> {
    return {
      id: newId(),
      type,
      aggregate: this.deps.schemas[type].aggregate,
      timestamp: this.deps.clock(),
      payload,
      metadata: traceId
        ? { source: this.deps.source, version: EVENT_VERSION, traceId }
        : this.metadata,
    };
  }
}

/** An event's id and timestamp, made before the statement that writes its row. */
export interface EventStamp {
  id: string;
  timestamp: number;
}
