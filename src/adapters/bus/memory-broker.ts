import type { EventMessage } from './event-message.js';
import { bodyDigestId, jsonCodec, undecodableEvent, WireFormats } from './codec.js';
import {
  assertName,
  BrokerClosedError,
  type Broker,
  type BrokerOptions,
  type ConsumeSpec,
  type DeadLetter,
  type DeliveryHandler,
  type OutgoingEvent,
  type SubscribeSpec,
  type Subscription,
} from './bus.js';
import {
  DeliveryRunner,
  silentLogger,
  type BusLogger,
  type BusObserver,
  type InboundDelivery,
  describe,
} from './delivery-runner.js';

/**
 * A message as it sits in a queue: bytes, as a server-backed broker holds them, or
 * (JSON topics) the event as published, its bytes made only if someone needs them.
 */
interface Item {
  body?: Uint8Array;
  contentType?: string;
  type: string;
  key: string;
  topic: string;
  attempt: number;
  /** The decoded event, shared by the queues' copies of the item (decoded once). */
  decoded: { event?: EventMessage };
}

/** A first attempt's item, every field set in one order (one object shape for them all). */
function item(
  type: string,
  key: string,
  topic: string,
  contentType: string | undefined,
  body: Uint8Array | undefined,
  event: EventMessage | undefined,
): Item {
  return { body, contentType, type, key, topic, attempt: 1, decoded: { event } };
}

interface QueueState {
  name: string;
  topic: string;
  types: Set<string>;
  pending: Item[];
  consumers: DeliveryRunner[];
  deadLetters: Array<{ item: Item; reason: string }>;
  nextConsumer: number;
  /** One event in flight at a time (ConsumeSpec.ordered). */
  ordered?: boolean;
  /** ConsumeSpec.accept of the queue's first consumer: the events it skips are not queued. */
  accept?: (event: EventMessage) => boolean;
  inFlight: number;
}

export interface MemoryBrokerOptions extends BrokerOptions {
  logger?: BusLogger;
  observer?: BusObserver;
}

/**
 * The in-process broker of the embedded default: queues live in this process
 * (durable while it runs), with the same semantics as the server-backed ones so
 * that code and tests do not care which runs. One process only.
 */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  /** A JSON topic's consumers get the event object; other codecs encode it anew. */
  readonly takesText = false;
  private readonly queues = new Map<string, QueueState>();
  private readonly listeners = new Map<
    string,
    Set<{ types: Set<string>; handler: DeliveryHandler }>
  >();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly logger: BusLogger;
  private readonly formats: WireFormats;
  private closed = false;

  constructor(private readonly options: MemoryBrokerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.formats = options.formats ?? new WireFormats();
  }

  async publish(topic: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
    assertName('topic', topic);
    // A JSON topic's event goes to its consumers as published: in one process there is
    // no wire to cross, and a JSON round trip (encode, bytes, decode) cost a few µs per
    // event on the path of every message. So a producer must not change an event once
    // published (the outbox relay publishes the objects its sends recorded, or parses
    // each from its row; the others build each anew), and consumers treat events as
    // read-only, as they already share one decoded copy between queues. A topic with
    // another codec (protobuf) is still encoded and decoded here, so its codec runs in
    // process as on a real broker.
    const passThrough = this.formats.codec(topic) === jsonCodec;
    // Every item is made before any is routed: an event that fails to encode fails
    // the whole publish, as before, and none of the batch is queued.
    const items: Item[] = [];
    for (const { event, key } of events) {
      const { type, id } = event;
      if (passThrough) {
        items.push(item(type, key ?? id, topic, jsonCodec.contentType, undefined, event));
      } else {
        const { body, contentType } = this.formats.encode(topic, event);
        items.push(item(type, key ?? id, topic, contentType, body, undefined));
      }
    }
    for (const queued of items) this.route(queued);
  }

  /**
   * Puts bytes on a topic as another producer in this process would (tests of
   * payloads written elsewhere): `type` routes it, `contentType` picks the codec
   * (else the topic's).
   */
  async publishRaw(
    topic: string,
    type: string,
    body: Uint8Array,
    options: { key?: string; contentType?: string } = {},
  ): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
    assertName('topic', topic);
    const key = options.key ?? '';
    const { contentType } = options;
    this.route(item(type, key, topic, contentType, body, undefined));
  }

  private route(item: Item): void {
    for (const queue of this.queues.values()) {
      if (queue.topic !== item.topic || !queue.types.has(item.type)) continue;
      // Skipped at once when its consumers would skip it (a JSON event is at hand;
      // other codecs' events are decoded when delivered and skipped by the runner).
      const { event } = item.decoded;
      if (queue.accept && event && !queue.accept(event)) {
        this.options.observer?.handled?.(queue.name, 'skipped');
        continue;
      }
      // One item shared by the queues: nothing changes an item once queued (a retry,
      // a replay or a dead letter makes a new one; the lazily made bytes are the same).
      this.enqueue(queue, item);
    }
    for (const listener of this.listeners.get(item.topic) ?? []) {
      if (!listener.types.has(item.type)) continue;
      try {
        const event = structuredClone(this.read(item));
        listener
          .handler({ event, key: item.key || event.id, topic: item.topic, attempt: 1 })
          .catch((err: unknown) =>
            this.logger.warn({ err, topic: item.topic }, 'subscriber failed'),
          );
      } catch (err) {
        this.logger.warn({ err, topic: item.topic }, 'undecodable event on subscription');
      }
    }
  }

  private read(item: Item): EventMessage {
    item.decoded.event ??= this.formats.decode(item.topic, this.bytesOf(item), {
      type: item.type,
      contentType: item.contentType,
      fallbackId: () => bodyDigestId(this.bytesOf(item)),
      fallbackTimestamp: () => Date.now(),
    });
    return item.decoded.event;
  }

  /** The item's bytes: as put on the queue, or its event encoded now (passed-through JSON). */
  private bytesOf(item: Item): Uint8Array {
    item.body ??= this.formats.encode(item.topic, item.decoded.event!).body;
    return item.body;
  }

  async resilientPublish(topic: string, events: readonly OutgoingEvent[]): Promise<void> {
    // Nothing in-process can fail transiently; only a closed broker refuses.
    await this.publish(topic, events);
  }

  async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    assertName('queue', spec.queue);
    assertName('topic', spec.topic);
    let queue = this.queues.get(spec.queue);
    if (!queue) {
      queue = {
        name: spec.queue,
        topic: spec.topic,
        types: new Set(),
        pending: [],
        consumers: [],
        deadLetters: [],
        nextConsumer: 0,
        inFlight: 0,
        accept: spec.accept,
      };
      this.queues.set(spec.queue, queue);
    }
    for (const type of spec.types) queue.types.add(type);
    const state = queue;
    const runner = new DeliveryRunner({
      queue: spec.queue,
      types: spec.types,
      accept: spec.accept,
      handler,
      concurrency: spec.ordered ? 1 : (spec.concurrency ?? 1),
      maxAttempts: spec.maxAttempts ?? this.options.maxAttempts,
      retry: this.options.retry,
      logger: this.logger,
      observer: this.options.observer,
      isTransient: this.options.isTransient,
      onCapacity: () => this.flush(state),
    });
    if (spec.ordered) state.ordered = true;
    state.consumers.push(runner);
    this.flush(state);
    return {
      stop: async () => {
        state.consumers = state.consumers.filter((c) => c !== runner);
        // Deliveries this consumer had not started go back to the queue.
        for (const d of runner.drainWaiting()) {
          state.pending.unshift(this.itemOf(d));
          state.inFlight -= 1;
        }
        await runner.stop();
        this.flush(state);
      },
    };
  }

  // In process there is no connection to lose, so no gap (spec.onGap is never called).
  async subscribe(spec: SubscribeSpec, handler: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    const { topic } = spec;
    const entry = { types: new Set(spec.types), handler };
    const set = this.listeners.get(topic) ?? new Set();
    set.add(entry);
    this.listeners.set(topic, set);
    return {
      stop: async () => {
        set.delete(entry);
      },
    };
  }

  async takeDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    const dead = this.queues.get(queue)?.deadLetters.splice(0, limit) ?? [];
    return dead.map((d) => this.deadLetterOf(d).dead);
  }

  async replayDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    const state = this.queues.get(queue);
    if (!state) return [];
    const out: DeadLetter[] = [];
    const left: QueueState['deadLetters'] = [];
    while (out.length < limit && state.deadLetters.length > 0) {
      const d = state.deadLetters.shift()!;
      const { dead, decoded } = this.deadLetterOf(d);
      // Undecodable bytes stay for `takeDeadLetters` and a human: nothing to replay them as.
      if (!decoded) {
        left.push(d);
        continue;
      }
      this.enqueue(state, { ...d.item, attempt: 1 });
      out.push(dead);
    }
    state.deadLetters.unshift(...left);
    return out;
  }

  private deadLetterOf({ item, reason }: { item: Item; reason: string }): {
    dead: DeadLetter;
    decoded: boolean;
  } {
    try {
      const event = this.read(item);
      return { dead: { event, key: item.key || event.id, reason }, decoded: true };
    } catch {
      const body = this.bytesOf(item);
      const event = undecodableEvent(body, {
        type: item.type,
        id: bodyDigestId(body),
        timestamp: Date.now(),
        contentType: item.contentType,
      });
      return { dead: { event, key: item.key || event.id, reason }, decoded: false };
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.queues.values()].flatMap((q) => q.consumers.map((c) => c.stop())));
    this.listeners.clear();
  }

  private enqueue(queue: QueueState, item: Item): void {
    queue.pending.push(item);
    this.flush(queue);
  }

  /**
   * Hands pending items to consumers round-robin while any has room. An ordered
   * queue has one active consumer (the oldest) and one event in flight.
   */
  private flush(queue: QueueState): void {
    while (queue.pending.length > 0) {
      if (queue.ordered && (queue.inFlight > 0 || queue.consumers.length === 0)) return;
      const runner = this.nextRunner(queue);
      if (!runner) return;
      const item = queue.pending.shift()!;
      let event: EventMessage;
      try {
        event = this.read(item);
      } catch (err) {
        // Cannot be handled now or ever: to the dead letters with the reason.
        this.logger.warn({ err, topic: item.topic }, 'undecodable event; dead-lettering');
        this.options.observer?.handled?.(queue.name, 'dead');
        queue.deadLetters.push({ item, reason: describe(err) });
        continue;
      }
      queue.inFlight += 1;
      runner.push(new MemoryDelivery(this, queue, item, event));
    }
  }

  /**
   * The consumer the next item goes to: round-robin over those with room (only the
   * oldest on an ordered queue). Counted in place, not filtered into a new array: this
   * runs for every delivery of every event.
   */
  private nextRunner(queue: QueueState): DeliveryRunner | undefined {
    const candidates = queue.ordered ? Math.min(1, queue.consumers.length) : queue.consumers.length;
    let live = 0;
    for (let i = 0; i < candidates; i += 1) if (queue.consumers[i]!.hasCapacity) live += 1;
    if (live === 0) return undefined;
    let pick = queue.nextConsumer++ % live;
    for (let i = 0; i < candidates; i += 1) {
      const consumer = queue.consumers[i]!;
      if (consumer.hasCapacity && pick-- === 0) return consumer;
    }
    return undefined;
  }

  /** A delivery's way out of flight: a slot of its queue frees up. */
  settled(queue: QueueState): void {
    queue.inFlight -= 1;
    this.flush(queue);
  }

  /** Puts an item back after `delayMs` (a delivery's retry). */
  retryLater(queue: QueueState, item: Item, delayMs: number): void {
    // An ordered queue keeps its slot and retries this event before any other.
    if (!queue.ordered) queue.inFlight -= 1;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const next = { ...item, attempt: item.attempt + 1 };
      if (queue.ordered) {
        queue.pending.unshift(next);
        this.settled(queue);
      } else {
        this.enqueue(queue, next);
      }
    }, delayMs);
    this.timers.add(timer);
  }

  private itemOf(d: InboundDelivery): Item {
    return (d as MemoryDelivery).item;
  }
}

/**
 * One event handed to a consumer. A class rather than an object of closures (and a
 * WeakMap from it back to its item): one allocation per delivery on the path of every
 * message, and no weak entry for the GC to trace.
 */
class MemoryDelivery implements InboundDelivery {
  readonly key: string;
  readonly topic: string;
  readonly attempt: number;

  constructor(
    private readonly broker: MemoryBroker,
    private readonly queue: QueueState,
    /** The queue's item this delivery is of (handed back when its consumer stops). */
    readonly item: Item,
    readonly event: EventMessage,
  ) {
    this.key = item.key || event.id;
    this.topic = item.topic;
    this.attempt = item.attempt;
  }

  ack(): void {
    this.broker.settled(this.queue);
  }

  retry(delayMs: number): void {
    this.broker.retryLater(this.queue, this.item, delayMs);
  }

  deadLetter(reason: string): void {
    this.queue.deadLetters.push({ item: this.item, reason });
    this.broker.settled(this.queue);
  }
}
