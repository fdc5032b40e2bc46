import type { Publisher } from '../adapters/bus/bus.js';
import { BrokerClosedError } from '../adapters/bus/bus.js';
import type { EventAggregate, EventMessage } from '../adapters/bus/event-message.js';
import { EVENT_VERSION } from './event-recorder.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';

export interface PusherDeps {
  publisher: Publisher;
  topic: string;
  /** The topic's name on the broker (`bus.topics.<topic>.name`), which starts every key. */
  topicName?: string;
  source: string;
  aggregate: EventAggregate;
  clock: Clock;
  logger: Logger;
  /** Counts sendAsync failures (they are not retried). */
  onAsyncFailure?: (topic: string, err: unknown) => void;
}

/**
 * The message key of an event: `{topic}:{key}`, as the Go system's `formatKey`
 * builds it, where key defaults to the event type (`notify_topic:notify.email`).
 * The Go consumers tell the messages of one topic apart by it; on a partitioned
 * broker it is the partition key.
 */
export function formatKey(topicName: string, key: string): string {
  return `${topicName}:${key}`;
}

export type PusherItem<M> = {
  [K in keyof M & string]: {
    type: K;
    payload: M[K];
    key?: string;
    /**
     * The event id, when the request must be recognised as the same one if sent again
     * (a redelivered cause): consumers de-duplicate by id. A fresh id by default.
     */
    id?: string;
  };
}[keyof M & string];

/**
 * The transport for one topic, typed by its event map: every send builds the
 * envelope (id, timestamp, metadata) and publishes it under the key
 * `{topic}:{key ?? type}` (formatKey).
 * - `send` waits for the broker's confirmation;
 * - `sendWithKey` does too, and events with one key keep their order;
 * - `sendBatch` publishes several in order with one confirmation wait;
 * - `sendAsync` returns at once; a failure is logged and counted, not thrown;
 * - `close` waits for async sends in flight and refuses new ones.
 * Events that must survive a crash go through the outbox instead.
 */
export class Pusher<M extends Record<string, unknown>> {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: PusherDeps) {}

  get topic(): string {
    return this.deps.topic;
  }

  build<K extends keyof M & string>(
    type: K,
    payload: M[K],
    traceId?: string,
    id?: string,
  ): EventMessage<M[K]> {
    return {
      id: id ?? newId(),
      type,
      aggregate: this.deps.aggregate,
      timestamp: this.deps.clock(),
      payload,
      metadata: {
        source: this.deps.source,
        version: EVENT_VERSION,
        ...(traceId ? { traceId } : {}),
      },
    };
  }

  async send<K extends keyof M & string>(type: K, payload: M[K]): Promise<EventMessage<M[K]>> {
    const event = this.build(type, payload);
    await this.publish([{ event, key: this.key(type) }]);
    return event;
  }

  async sendWithKey<K extends keyof M & string>(
    key: string,
    type: K,
    payload: M[K],
  ): Promise<EventMessage<M[K]>> {
    const event = this.build(type, payload);
    await this.publish([{ event, key: this.key(key) }]);
    return event;
  }

  async sendBatch(items: ReadonlyArray<PusherItem<M>>): Promise<EventMessage[]> {
    const events = items.map((item) => ({
      event: this.build(item.type, item.payload, undefined, item.id),
      key: this.key(item.key ?? item.type),
    }));
    await this.publish(events);
    return events.map((e) => e.event);
  }

  sendAsync<K extends keyof M & string>(type: K, payload: M[K], key?: string): void {
    const event = this.build(type, payload);
    const sending = this.publish([{ event, key: this.key(key ?? type) }]).catch((err: unknown) => {
      this.deps.onAsyncFailure?.(this.deps.topic, err);
      this.deps.logger.warn({ err, topic: this.deps.topic, type }, 'async event send failed');
    });
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  private key(key: string): string {
    return formatKey(this.deps.topicName ?? this.deps.topic, key);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.inFlight);
  }

  private async publish(events: Array<{ event: EventMessage; key?: string }>): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
    await this.deps.publisher.publish(this.deps.topic, events);
  }
}
