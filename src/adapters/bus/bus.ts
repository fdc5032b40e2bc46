import type { WireFormats } from './codec.js';
import type { EventMessage } from './event-message.js';

/**
 * The event bus: a `Publisher` that puts events on named topics and a `Consumer`
 * that takes them off, durable and at-least-once. Three implementations pass
 * bus.contract.ts: in-process (the embedded default), NATS JetStream and RabbitMQ.
 *
 * A topic is a family of events (`domain`, `notify`, `log`); each event's `type`
 * routes it inside the topic. A queue is a durable, named consumer group: every
 * queue gets its own copy of each event of the types it asked for, and the
 * processes consuming one queue share its events (competing consumers).
 *
 * Adding a broker (Kafka, say) means one class implementing `Broker` that passes
 * the contract: a topic maps to a topic, a queue to a consumer group, the key to
 * the partition key, and `attempt`/dead-lettering to a retry counter header plus
 * a `<queue>.dlq` topic.
 */
export interface Broker extends Publisher, Consumer {
  /** Which implementation this is (metrics, logs, /readyz). */
  readonly kind: BrokerKind;
  /** Cheap round trip to the server for /readyz. */
  ping(): Promise<void>;
  /** Stops consumers, waits for in-flight handlers and publishes, disconnects. Idempotent. */
  close(): Promise<void>;
}

export type BrokerKind = 'memory' | 'nats' | 'rabbitmq';

/** One event to publish. */
export interface OutgoingEvent {
  event: EventMessage;
  /**
   * Ordering key: events with one key are stored and delivered in the order they
   * were published. Defaults to the event id (no ordering with other events).
   */
  key?: string;
  /**
   * The event's JSON text, exactly `JSON.stringify(event)`, when it is at hand already
   * (the outbox's stored envelope): a topic written in JSON publishes these bytes
   * instead of stringifying the event again. Ignored by other codecs.
   */
  text?: string;
}

export interface Publisher {
  /**
   * False when this publisher never reads OutgoingEvent.text (the in-process broker
   * hands consumers the event object): the outbox relay then keeps no texts for it, so
   * a recorded event's envelope is garbage once its row is written instead of living on
   * until the relay publishes (docs/performance-log.md, "What survives a scavenge, message
   * by message"). Absent means it may.
   */
  readonly takesText?: boolean;
  /**
   * Publishes in order and resolves once the broker has confirmed every event
   * (stored durably); rejects if any was not confirmed. The event id is the
   * broker's de-duplication id where it has one (NATS `msgID`).
   */
  publish(topic: string, events: readonly OutgoingEvent[]): Promise<void>;
  /**
   * Like publish, but retries with exponential backoff until it succeeds. It only
   * rejects when the broker is closed (shutdown) before success.
   */
  resilientPublish(topic: string, events: readonly OutgoingEvent[]): Promise<void>;
}

export interface Consumer {
  /**
   * Starts a durable, at-least-once consumer: queue `queue` receives every event
   * of `types` published on `topic` from the moment the queue first exists, also
   * while no process consumes it. An event is acknowledged after the handler
   * resolves; a rejection is retried with backoff and after `maxAttempts`
   * the event moves to the queue's dead-letter queue, without holding up others.
   */
  consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<Subscription>;
  /**
   * Live fan-out: every subscribing process receives each event of `spec.types`
   * published on `spec.topic` while it is subscribed (not durable, no retries).
   * For reactions every node must see, such as a gateway closing a disabled user's
   * sockets or dropping cached answers. Events published while the connection to
   * the broker is down are lost; `spec.onGap` is called once it is back (and the
   * subscription listening again), so a subscriber can repair what it may have missed.
   */
  subscribe(spec: SubscribeSpec, handler: DeliveryHandler): Promise<Subscription>;
  /** Removes and returns up to `limit` events from a queue's dead-letter queue. */
  takeDeadLetters(queue: string, limit: number): Promise<DeadLetter[]>;
  /**
   * Moves up to `limit` events from a queue's dead-letter queue back to the queue, for
   * a fresh set of attempts (after the cause was fixed), and returns them. Each is
   * published again before it leaves the dead-letter queue, so a crash in between
   * repeats it rather than losing it. Where the broker cannot address one queue
   * (NATS), the event goes to its topic and every queue of the topic sees it again;
   * consumers skip events they have processed.
   */
  replayDeadLetters(queue: string, limit: number): Promise<DeadLetter[]>;
}

export interface SubscribeSpec {
  topic: string;
  types: readonly string[];
  /** Called after the connection to the broker came back: events may have been missed. */
  onGap?: () => void;
}

export interface ConsumeSpec {
  queue: string;
  topic: string;
  types: readonly string[];
  /** Handlers running at once (default 1, which keeps delivery order). */
  concurrency?: number;
  /**
   * One event in flight for the whole queue, across every consumer in every
   * process: the queue is handled strictly in publish order even with several
   * workers (one of them is active at a time). Implies concurrency 1. A handler
   * failure holds the queue until the retry succeeds or dead-letters.
   */
  ordered?: boolean;
  /** Deliveries of one event before it is dead-lettered (default from the broker options). */
  maxAttempts?: number;
  /**
   * Which events of the queue's types its handler wants, when it wants only some (a
   * queue of `message-sent` for group notices alone): the others are acknowledged
   * without running the handler, and the in-process broker does not queue them at
   * all, a delivery less per event for nothing. A pure function of the event, the
   * same for every consumer of the queue.
   */
  accept?: (event: EventMessage) => boolean;
}

export interface Delivery {
  event: EventMessage;
  key: string;
  topic: string;
  /** 1 on first delivery, then 2, 3 … on redeliveries. */
  attempt: number;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export interface DeadLetter {
  event: EventMessage;
  key: string;
  /** Why it was dead-lettered (the last handler error, or the broker's reason). */
  reason: string;
}

export interface Subscription {
  /** Stops taking new events and waits for the handlers that are running. */
  stop(): Promise<void>;
}

/** Retry timing shared by consumers and resilientPublish. */
export interface BackoffOptions {
  /** First delay; each retry doubles it up to maxMs. */
  initialMs: number;
  maxMs: number;
}

export interface BrokerOptions {
  /** Prefix of every stream, subject, exchange and queue name this broker creates. */
  prefix: string;
  /** Deliveries of one event before dead-lettering, unless the ConsumeSpec says otherwise. */
  maxAttempts: number;
  retry: BackoffOptions;
  /**
   * Whether a handler's error means a dependency is down (the database, say) rather
   * than that the event cannot be handled. Such failures are retried with backoff
   * for as long as they last and never dead-letter the event.
   */
  isTransient?: (err: unknown) => boolean;
  /** Topic names on the broker and payload codecs (default: every topic by its name, JSON). */
  formats?: WireFormats;
}

/** Thrown by publish/resilientPublish once the broker is closed. */
export class BrokerClosedError extends Error {
  override name = 'BrokerClosedError';
  constructor() {
    super('broker is closed');
  }
}

/** Delay before retry number `attempt` (1-based): initial · 2^(attempt-1), capped, ±20 % jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Names must be safe as NATS subjects/stream names and AMQP names alike. */
export function assertName(kind: string, name: string): void {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) || name.includes('..')) {
    throw new Error(`invalid ${kind} name "${name}"`);
  }
}
