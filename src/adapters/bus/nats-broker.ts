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
import { bodyDigestId, WireFormats } from './codec.js';
import {
  CONTENT_TYPE_HEADER,
  KEY_HEADER,
  MSG_ID_HEADER,
  NatsDeadLetters,
} from './nats-dead-letters.js';
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
  describe,
  silentLogger,
  type BusLogger,
  type BusObserver,
  type InboundDelivery,
} from './delivery-runner.js';
import { StreamPublisher, type StreamMessage } from './nats-stream-publisher.js';
import { abortableSleep, retryUntilClosed } from './resilient.js';

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
 * `<prefix>.<topic>.<type>` (the topic under its `bus.topics` name); a queue is a
 * durable pull consumer of that stream (explicit acks, new events from its creation
 * on); dead letters go to the stream `<prefix>_dlq` under `<prefix>.dlq.<queue>`.
 * The event id is the `msgID`, so a relay that re-publishes within the duplicate
 * window stores the event once. Bodies are the topic's codec, named by the
 * `Content-Type` header.
 */
export class NatsBroker implements Broker {
  readonly kind = 'nats' as const;
  private readonly streams = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly closing = new AbortController();
  /** The live subscriptions' onGap: told after every reconnect. */
  private readonly gapListeners = new Set<() => void>();
  private readonly logger: BusLogger;
  private readonly formats: WireFormats;
  private readonly deadLetters: NatsDeadLetters;
  private readonly streamPublisher: StreamPublisher;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly options: NatsBrokerOptions,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.formats = options.formats ?? new WireFormats();
    this.streamPublisher = new StreamPublisher(nc);
    this.deadLetters = new NatsDeadLetters({
      prefix: options.prefix,
      js,
      jsm,
      formats: this.formats,
      logger: this.logger,
      ensure: (key, name, subjects, maxAgeMs) => this.ensure(key, name, subjects, maxAgeMs),
      republish: async (topic, type, data, h, msgID) => {
        await this.ensureStream(topic);
        await this.js.publish(this.subject(topic, type), data, { msgID, headers: h });
      },
    });
    void this.watchReconnects();
  }

  /**
   * NATS resubscribes core subscriptions as part of reconnecting, but what was
   * published while the connection was down never reaches them: tell their owners.
   */
  private async watchReconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== 'reconnect') continue;
      for (const onGap of this.gapListeners) {
        try {
          onGap();
        } catch (err) {
          this.logger.warn({ err }, 'live subscription gap handler failed');
        }
      }
    }
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
    // Every event encoded before any is sent; then they go out pipelined on the one
    // connection (the stream stores them in call order) and their acks are awaited
    // together. The event id is the msgID: a re-publish is stored once.
    const messages = events.map(({ event, key, text }): StreamMessage => {
      const { body, contentType } = this.formats.encode(topic, event, text);
      const h = headers();
      h.set(MSG_ID_HEADER, event.id);
      h.set(KEY_HEADER, key ?? event.id);
      h.set(CONTENT_TYPE_HEADER, contentType);
      return { subject: this.subject(topic, event.type), body, headers: h };
    });
    await this.streamPublisher.publish(messages);
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
      accept: spec.accept,
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
    const wanted = new Set(spec.types);

    const loop = (async () => {
      for (let failures = 0; !stopped();) {
        try {
          for await (const msg of messages) {
            failures = 0;
            const delivery = this.inbound(spec, wanted, msg);
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

  async subscribe(spec: SubscribeSpec, handler: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    const { topic, onGap } = spec;
    const wanted = new Set(spec.types);
    // JetStream publishes are ordinary NATS messages too, so a core subscription
    // sees them live on every node without a durable consumer.
    const sub = this.nc.subscribe(this.subject(topic, '>'), {
      callback: (err, msg) => {
        if (err) return;
        const type = this.typeOf(topic, msg.subject);
        if (!wanted.has(type)) return;
        try {
          const event = this.read(topic, msg.data, type, msg.headers, () => bodyDigestId(msg.data));
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
    if (onGap) this.gapListeners.add(onGap);
    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        if (onGap) this.gapListeners.delete(onGap);
        sub.unsubscribe();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  takeDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    return this.deadLetters.take(queue, limit);
  }

  replayDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    return this.deadLetters.replay(queue, limit);
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
      this.streamPublisher.close();
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

  private inbound(spec: ConsumeSpec, wanted: Set<string>, msg: JsMsg): InboundDelivery | undefined {
    const type = this.typeOf(spec.topic, msg.subject);
    if (!wanted.has(type)) {
      // Another queue's type on the same stream: not this queue's to read.
      msg.ack();
      this.options.observer?.handled?.(spec.queue, 'skipped');
      return undefined;
    }
    const contentType = msg.headers?.get(CONTENT_TYPE_HEADER) || undefined;
    let event: EventMessage;
    try {
      event = this.read(
        spec.topic,
        msg.data,
        type,
        msg.headers,
        () => `${msg.info.stream}:${msg.seq}`,
      );
    } catch (err) {
      // Cannot be handled now or ever: keep the bytes for a human, then drop.
      this.logger.warn({ err, queue: spec.queue }, 'undecodable event; dead-lettering');
      this.options.observer?.handled?.(spec.queue, 'dead');
      const key = msg.headers?.get(KEY_HEADER) ?? '';
      void this.deadLetters
        .store(spec, msg.data, { key, type, contentType, reason: describe(err) })
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
        await this.deadLetters.store(spec, msg.data, { key, type, contentType, reason });
        msg.term(reason.slice(0, 200));
      },
    };
  }

  /** Reads a message of `topic` with its codec; throws `UndecodableEventError`. */
  private read(
    topic: string,
    data: Uint8Array,
    type: string,
    hdrs: MsgHdrs | undefined,
    brokerId: () => string,
  ): EventMessage {
    return this.formats.decode(topic, data, {
      type,
      contentType: hdrs?.get(CONTENT_TYPE_HEADER) || undefined,
      fallbackId: () => hdrs?.get(MSG_ID_HEADER) || brokerId(),
      fallbackTimestamp: () => Date.now(),
    });
  }

  private ensureStream(topic: string): Promise<void> {
    assertName('topic', topic);
    if (this.formats.name(topic) === 'dlq') throw new Error('topic name "dlq" is reserved');
    return this.ensure(
      topic,
      this.streamName(topic),
      [this.subject(topic, '>')],
      this.options.maxAgeMs,
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
        filter_subject: this.subject(topic, '>'),
        ack_wait: nanos(this.options.ackWaitMs),
        max_ack_pending: maxAckPending,
      })
      .catch(async (err: unknown) => {
        if (!(await this.jsm.consumers.info(stream, durable).catch(() => undefined))) throw err;
      });
  }

  /** `<prefix>.<topic name>.<type>`; type `>` is every type. */
  private subject(topic: string, type: string): string {
    if (type !== '>') assertName('event type', type);
    return `${this.options.prefix}.${this.formats.name(topic)}.${type}`;
  }

  /** The event type a subject of `topic` names ("" if it is not one). */
  private typeOf(topic: string, subject: string): string {
    const head = `${this.options.prefix}.${this.formats.name(topic)}.`;
    return subject.startsWith(head) ? subject.slice(head.length) : '';
  }

  private streamName(topic: string): string {
    return `${this.options.prefix}_${this.formats.name(topic)}`.replace(/\./g, '_');
  }

  private durableName(queue: string): string {
    return `${this.options.prefix}_${queue}`.replace(/\./g, '_');
  }
}
