import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import {
  connect,
  headers,
  nanos,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';
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
  decodeEvent,
  DeliveryRunner,
  describe,
  encodeEvent,
  silentLogger,
  type BusLogger,
  type BusObserver,
  type InboundDelivery,
} from './delivery-runner.js';
import { abortableSleep, retryUntilClosed } from './resilient.js';

const KEY_HEADER = 'Ec-Key';
const REASON_HEADER = 'Ec-Dead-Reason';
/** The topic a dead letter came from, so a replay knows where to publish it. */
const TOPIC_HEADER = 'Ec-Topic';
const DAY_MS = 86_400_000;

export interface NatsBrokerOptions extends BrokerOptions {
  url: string;
  /** Stream replicas (1 on a single server, 3 on a cluster). */
  replicas: number;
  /** Window in which a re-published event id is dropped by the server (`msgID`). */
  duplicateWindowMs: number;
  /** How long the server waits for an ack before redelivering. */
  ackWaitMs: number;
  /** How long a topic's stream keeps events (limits retention). */
  maxAgeMs: number;
  logger?: BusLogger;
  observer?: BusObserver;
}

/**
 * NATS JetStream: a topic is a stream `<prefix>_<topic>` over subjects
 * `<prefix>.<topic>.<type>`; a queue is a durable pull consumer of that stream
 * (explicit acks, new events from its creation on); dead letters go to the stream
 * `<prefix>_dlq` under `<prefix>.dlq.<queue>`. The event id is the `msgID`, so a
 * relay that re-publishes within the duplicate window stores the event once.
 */
export class NatsBroker implements Broker {
  readonly kind = 'nats' as const;
  private readonly streams = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly closing = new AbortController();
  private readonly logger: BusLogger;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly options: NatsBrokerOptions,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  static async connect(options: NatsBrokerOptions): Promise<NatsBroker> {
    assertName('prefix', options.prefix);
    const nc = await connect({
      servers: options.url,
      name: `easy-chat:${options.prefix}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    const jsm = await jetstreamManager(nc);
    return new NatsBroker(options, nc, jetstream(nc), jsm);
  }

  async publish(topic: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
    await this.ensureStream(topic);
    // Publishes are pipelined on the one connection, so the stream stores them in
    // call order; the server's acks (one per event) are awaited together.
    const acks = events.map(({ event, key }) => {
      const h = headers();
      h.set(KEY_HEADER, key ?? event.id);
      return this.js.publish(this.subject(topic, event.type), encodeEvent(event), {
        msgID: event.id,
        headers: h,
      });
    });
    const results = await Promise.allSettled(acks);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async resilientPublish(topic: string, events: readonly OutgoingEvent[]): Promise<void> {
    await retryUntilClosed(() => this.publish(topic, events), {
      topic,
      signal: this.closing.signal,
      retry: this.options.retry,
      logger: this.logger,
      observer: this.options.observer,
      // The stream may have been deleted: declare it again on the next try.
      onFailure: () => this.streams.delete(topic),
    });
  }

  async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    assertName('queue', spec.queue);
    const stream = this.streamName(spec.topic);
    const durable = this.durableName(spec.queue);

    let wake: (() => void) | undefined;
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
      onCapacity: () => wake?.(),
      // A handler may outlast ack_wait (a fan-out to a large group): reset the
      // server's redelivery timer well before it fires.
      progressEveryMs: Math.max(100, Math.floor(this.options.ackWaitMs / 3)),
    });
    const open = async (lostAt?: number) => {
      await this.ensureStream(spec.topic);
      await this.ensureConsumer(stream, durable, spec.topic, lostAt, spec.ordered ?? false);
      const consumer = await this.js.consumers.get(stream, durable);
      return consumer.consume({
        max_messages: Math.max(2 * (spec.concurrency ?? 1), 16),
        // End the iterator when the consumer or stream disappears, so it is recreated.
        abort_on_missing_resource: true,
      });
    };
    let messages = await open();
    const stopped = () => runner.isStopped || this.closing.signal.aborted;

    const loop = (async () => {
      for (let failures = 0; !stopped();) {
        try {
          for await (const msg of messages) {
            failures = 0;
            const delivery = this.inbound(spec, msg);
            if (delivery) runner.push(delivery);
            // Backpressure: take the next message only when a handler slot is free.
            while (!runner.hasCapacity && !runner.isStopped) {
              await new Promise<void>((resolve) => (wake = resolve));
            }
            if (runner.isStopped) break;
          }
        } catch (err) {
          this.logger.warn({ err, queue: spec.queue }, 'consumer interrupted');
        }
        if (stopped()) break;
        // The consumer or its stream went away (deleted, server restarted): attach again.
        const lostAt = Date.now();
        failures += 1;
        await abortableSleep(Math.min(5_000, 100 * 2 ** failures), this.closing.signal);
        if (stopped()) break;
        this.streams.delete(spec.topic);
        messages = await open(lostAt).catch((err: unknown) => {
          this.logger.warn({ err, queue: spec.queue }, 'consumer reattach failed');
          return messages;
        });
      }
    })();

    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        const stopping = runner.stop();
        wake?.();
        await messages.close();
        await stopping;
        await loop;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    ...types: string[]
  ): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    const wanted = new Set(types);
    // JetStream publishes are ordinary NATS messages too, so a core subscription
    // sees them live on every node without a durable consumer.
    const sub = this.nc.subscribe(`${this.options.prefix}.${topic}.>`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const event = decodeEvent(msg.data);
          if (!wanted.has(event.type)) return;
          const key = msg.headers?.get(KEY_HEADER) || event.id;
          handler({ event, key, topic, attempt: 1 }).catch((e: unknown) =>
            this.logger.warn({ err: e, topic }, 'subscriber failed'),
          );
        } catch (e) {
          this.logger.warn({ err: e, topic }, 'undecodable event on subscription');
        }
      },
    });
    await this.nc.flush();
    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        sub.unsubscribe();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async takeDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    if (limit <= 0) return out;
    for await (const stored of this.storedDeadLetters(queue)) {
      await this.jsm.streams.deleteMessage(this.dlqStreamName(), stored.seq, false);
      const event = decodeOrUndefined(stored.data);
      if (!event) {
        this.logger.warn({ queue, seq: stored.seq }, 'dropping an undecodable dead letter');
        continue;
      }
      out.push(deadLetterOf(event, stored.header));
      if (out.length >= limit) break;
    }
    return out;
  }

  async replayDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    if (limit <= 0) return out;
    for await (const stored of this.storedDeadLetters(queue)) {
      const topic = stored.header.get(TOPIC_HEADER);
      const event = decodeOrUndefined(stored.data);
      if (!topic || !event) {
        // Left in place for `takeDeadLetters` and a human: nothing to replay it as.
        this.logger.warn({ queue, seq: stored.seq }, 'dead letter cannot be replayed; left');
        continue;
      }
      const dead = deadLetterOf(event, stored.header);
      await this.ensureStream(topic);
      const h = headers();
      h.set(KEY_HEADER, dead.key);
      // A msgID of its own: the event's id may still be inside the duplicate window
      // (it would be dropped), and a replay repeated after a crash between the
      // publish and the delete below stores it once.
      await this.js.publish(this.subject(topic, event.type), stored.data, {
        msgID: `${event.id}.replay.${stored.seq}`,
        headers: h,
      });
      await this.jsm.streams.deleteMessage(this.dlqStreamName(), stored.seq, false);
      out.push(dead);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** A queue's dead letters, oldest first, read one by one from the dead-letter stream. */
  private async *storedDeadLetters(queue: string) {
    await this.ensureDlqStream();
    const subject = this.dlqSubject(queue);
    for (let seq = 1; ;) {
      // STREAM.MSG.GET takes next_by_subj (server 2.9+); the client's type omits it.
      const query = { seq, next_by_subj: subject } as { seq: number };
      const stored = await this.jsm.streams.getMessage(this.dlqStreamName(), query);
      if (!stored) return;
      seq = stored.seq + 1;
      yield stored;
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
    await this.nc.flush();
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort();
      await Promise.all([...this.subscriptions].map((s) => s.stop()));
      await this.nc.drain().catch(() => this.nc.close());
    })();
    return this.closed;
  }

  /** Deletes every stream under this broker's prefix (tests and benchmarks). */
  async deleteEverything(): Promise<void> {
    const mine = `${this.options.prefix}_`;
    const names: string[] = [];
    for await (const info of this.jsm.streams.list()) {
      if (info.config.name.startsWith(mine)) names.push(info.config.name);
    }
    await Promise.all(names.map((n) => this.jsm.streams.delete(n).catch(() => false)));
  }

  /** Deletes a topic's stream, as an operator might by mistake (tests of recovery). */
  async deleteTopic(topic: string): Promise<void> {
    await this.jsm.streams.delete(this.streamName(topic));
  }

  private inbound(spec: ConsumeSpec, msg: JsMsg): InboundDelivery | undefined {
    let event;
    try {
      event = decodeEvent(msg.data);
    } catch (err) {
      // Cannot be handled now or ever: keep the bytes for a human, then drop.
      void this.deadLetterRaw(spec, msg.data, msg.headers?.get(KEY_HEADER) ?? '', describe(err))
        .then(() => msg.term())
        .catch((e: unknown) => this.logger.warn({ err: e }, 'dead-lettering failed'));
      return undefined;
    }
    const key = msg.headers?.get(KEY_HEADER) || event.id;
    return {
      event,
      key,
      topic: spec.topic,
      attempt: msg.info.deliveryCount,
      ack: () => msg.ack(),
      retry: (delayMs) => msg.nak(delayMs),
      inProgress: () => msg.working(),
      deadLetter: async (reason) => {
        await this.deadLetterRaw(spec, msg.data, key, reason);
        msg.term(reason.slice(0, 200));
      },
    };
  }

  private async deadLetterRaw(spec: ConsumeSpec, data: Uint8Array, key: string, reason: string) {
    await this.ensureDlqStream();
    const h = headers();
    h.set(KEY_HEADER, key);
    h.set(TOPIC_HEADER, spec.topic);
    h.set(REASON_HEADER, reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    await this.js.publish(this.dlqSubject(spec.queue), data, { headers: h });
  }

  private ensureStream(topic: string): Promise<void> {
    assertName('topic', topic);
    if (topic === 'dlq') throw new Error('topic name "dlq" is reserved');
    return this.ensure(
      topic,
      this.streamName(topic),
      [`${this.options.prefix}.${topic}.>`],
      this.options.maxAgeMs,
    );
  }

  private ensureDlqStream(): Promise<void> {
    return this.ensure(
      '\0dlq',
      this.dlqStreamName(),
      [`${this.options.prefix}.dlq.>`],
      30 * DAY_MS,
    );
  }

  private ensure(cacheKey: string, name: string, subjects: string[], maxAgeMs: number) {
    let pending = this.streams.get(cacheKey);
    if (!pending) {
      pending = (async () => {
        const existing = await this.jsm.streams.info(name).catch(() => undefined);
        if (existing) return;
        await this.jsm.streams
          .add({
            name,
            subjects,
            storage: StorageType.File,
            retention: RetentionPolicy.Limits,
            num_replicas: this.options.replicas,
            max_age: nanos(maxAgeMs),
            duplicate_window: nanos(Math.min(this.options.duplicateWindowMs, maxAgeMs)),
          })
          .catch(async (err: unknown) => {
            // Another process may have created it a moment ago.
            if (!(await this.jsm.streams.info(name).catch(() => undefined))) throw err;
          });
      })();
      pending.catch(() => this.streams.delete(cacheKey));
      this.streams.set(cacheKey, pending);
    }
    return pending;
  }

  /**
   * Creates the durable consumer unless it exists. A new queue starts with the
   * events published from now on, like a queue bound to an exchange; one recreated
   * after it was lost (`lostAt`) starts a minute before the loss, so events
   * published while it was gone are not skipped (repeats are de-duplicated).
   */
  private async ensureConsumer(
    stream: string,
    durable: string,
    topic: string,
    lostAt: number | undefined,
    ordered: boolean,
  ): Promise<void> {
    // An ordered queue lets the server hand out one event at a time to all its consumers.
    const maxAckPending = ordered ? 1 : 1000;
    const existing = await this.jsm.consumers.info(stream, durable).catch(() => undefined);
    if (existing) {
      if (existing.config.max_ack_pending !== maxAckPending) {
        await this.jsm.consumers.update(stream, durable, { max_ack_pending: maxAckPending });
      }
      return;
    }
    await this.jsm.consumers
      .add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ...(lostAt === undefined
          ? { deliver_policy: DeliverPolicy.New }
          : {
              deliver_policy: DeliverPolicy.StartTime,
              opt_start_time: new Date(lostAt - 60_000).toISOString(),
            }),
        // Types are filtered by the runner, so a queue may change its types freely.
        filter_subject: `${this.options.prefix}.${topic}.>`,
        ack_wait: nanos(this.options.ackWaitMs),
        max_ack_pending: maxAckPending,
      })
      .catch(async (err: unknown) => {
        if (!(await this.jsm.consumers.info(stream, durable).catch(() => undefined))) throw err;
      });
  }

  private subject(topic: string, type: string): string {
    assertName('event type', type);
    return `${this.options.prefix}.${topic}.${type}`;
  }

  private streamName(topic: string): string {
    return `${this.options.prefix}_${topic}`.replace(/\./g, '_');
  }

  private durableName(queue: string): string {
    return `${this.options.prefix}_${queue}`.replace(/\./g, '_');
  }

  private dlqStreamName(): string {
    return `${this.options.prefix}_dlq`.replace(/\./g, '_');
  }

  private dlqSubject(queue: string): string {
    return `${this.options.prefix}.dlq.${queue}`;
  }
}

function decodeOrUndefined(data: Uint8Array): EventMessage | undefined {
  try {
    return decodeEvent(data);
  } catch {
    return undefined;
  }
}

function deadLetterOf(event: EventMessage, header: MsgHdrs): DeadLetter {
  return {
    event,
    key: header.get(KEY_HEADER) || event.id,
    reason: header.get(REASON_HEADER) || 'dead-lettered',
  };
}
