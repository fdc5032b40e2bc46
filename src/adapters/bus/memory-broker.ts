import type { EventMessage } from './event-message.js';
import {
  assertName,
  BrokerClosedError,
  type Broker,
  type BrokerOptions,
  type ConsumeSpec,
  type DeadLetter,
  type DeliveryHandler,
  type OutgoingEvent,
  type Subscription,
} from './bus.js';
import {
  DeliveryRunner,
  silentLogger,
  type BusLogger,
  type BusObserver,
  type InboundDelivery,
} from './delivery-runner.js';

interface Item {
  event: EventMessage;
  key: string;
  topic: string;
  attempt: number;
}

interface QueueState {
  topic: string;
  types: Set<string>;
  pending: Item[];
  consumers: DeliveryRunner[];
  deadLetters: DeadLetter[];
  nextConsumer: number;
  /** One event in flight at a time (ConsumeSpec.ordered). */
  ordered?: boolean;
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
  private readonly queues = new Map<string, QueueState>();
  private readonly listeners = new Map<
    string,
    Set<{ types: Set<string>; handler: DeliveryHandler }>
  >();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly logger: BusLogger;
  private closed = false;

  constructor(private readonly options: MemoryBrokerOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  async publish(topic: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
    assertName('topic', topic);
    for (const { event, key } of events) {
      // A copy through JSON, as a real broker would deliver, so no object is shared.
      const copy = JSON.parse(JSON.stringify(event)) as EventMessage;
      const item: Item = { event: copy, key: key ?? event.id, topic, attempt: 1 };
      for (const queue of this.queues.values()) {
        if (queue.topic === topic && queue.types.has(event.type)) this.enqueue(queue, { ...item });
      }
      for (const listener of this.listeners.get(topic) ?? []) {
        if (!listener.types.has(event.type)) continue;
        listener
          .handler({
            event: JSON.parse(JSON.stringify(copy)) as EventMessage,
            key: item.key,
            topic,
            attempt: 1,
          })
          .catch((err: unknown) => this.logger.warn({ err, topic }, 'subscriber failed'));
      }
    }
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
        topic: spec.topic,
        types: new Set(),
        pending: [],
        consumers: [],
        deadLetters: [],
        nextConsumer: 0,
        inFlight: 0,
      };
      this.queues.set(spec.queue, queue);
    }
    for (const type of spec.types) queue.types.add(type);
    const state = queue;
    const runner = new DeliveryRunner({
      queue: spec.queue,
      types: spec.types,
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
          state.pending.unshift(itemOf(d));
          state.inFlight -= 1;
        }
        await runner.stop();
        this.flush(state);
      },
    };
  }

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    ...types: string[]
  ): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    const entry = { types: new Set(types), handler };
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
    return this.queues.get(queue)?.deadLetters.splice(0, limit) ?? [];
  }

  async replayDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    const state = this.queues.get(queue);
    if (!state) return [];
    const dead = state.deadLetters.splice(0, limit);
    for (const { event, key } of dead) {
      this.enqueue(state, { event, key, topic: state.topic, attempt: 1 });
    }
    return dead;
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
      const candidates = queue.ordered ? queue.consumers.slice(0, 1) : queue.consumers;
      const live = candidates.filter((c) => c.hasCapacity);
      if (live.length === 0) return;
      const runner = live[queue.nextConsumer++ % live.length]!;
      queue.inFlight += 1;
      runner.push(this.inbound(queue, queue.pending.shift()!));
    }
  }

  private inbound(queue: QueueState, item: Item): InboundDelivery {
    const settled = () => {
      queue.inFlight -= 1;
      this.flush(queue);
    };
    return {
      ...item,
      ack: settled,
      retry: (delayMs) => {
        // An ordered queue keeps its slot and retries this event before any other.
        if (!queue.ordered) queue.inFlight -= 1;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          const next = { ...item, attempt: item.attempt + 1 };
          if (queue.ordered) {
            queue.pending.unshift(next);
            settled();
          } else {
            this.enqueue(queue, next);
          }
        }, delayMs);
        this.timers.add(timer);
      },
      deadLetter: (reason) => {
        queue.deadLetters.push({ event: item.event, key: item.key, reason });
        settled();
      },
    };
  }
}

function itemOf(d: InboundDelivery): Item {
  return { event: d.event, key: d.key, topic: d.topic, attempt: d.attempt };
}
