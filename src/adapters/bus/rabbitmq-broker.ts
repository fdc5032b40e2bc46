import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
} from 'amqplib';
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
import { bodyDigestId, WireFormats } from './codec.js';
import {
  headerString,
  KEY_HEADER,
  RabbitDeadLetters,
  toError,
  type MessageLike,
} from './rabbitmq-dead-letters.js';
import type { EventMessage } from './event-message.js';
import {
  DeliveryRunner,
  describe,
  silentLogger,
  type BusLogger,
  type BusObserver,
  type InboundDelivery,
} from './delivery-runner.js';
import { abortableSleep, retryUntilClosed } from './resilient.js';

export interface RabbitBrokerOptions extends BrokerOptions {
  url: string;
  logger?: BusLogger;
  observer?: BusObserver;
}

/**
 * RabbitMQ: a topic is a durable topic exchange `<prefix>.<topic>` (the topic under
 * its `bus.topics` name) routed by event type, which the `type` property repeats; a queue is a durable quorum queue `<prefix>.<queue>` bound to the types it
 * asked for, whose dead-letter exchange `<prefix>.dlx` routes to `<queue>.dlq`.
 * Publishing uses a confirm channel, so `publish` resolves only after the broker
 * took responsibility for every event. Redeliveries are counted by the quorum
 * queue's `x-delivery-count`; `x-delivery-limit` is a backstop for handlers that
 * crash the process.
 */
export class RabbitBroker implements Broker {
  readonly kind = 'rabbitmq' as const;
  private connection: Promise<ChannelModel> | undefined;
  private publishChannel: Promise<ConfirmChannel> | undefined;
  private readonly exchanges = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly closing = new AbortController();
  private readonly logger: BusLogger;
  private readonly formats: WireFormats;
  private readonly deadLetters: RabbitDeadLetters;
  private closed: Promise<void> | undefined;
  /** Everything this instance declared (tests and benchmarks delete it afterwards). */
  readonly declared = { exchanges: new Set<string>(), queues: new Set<string>() };

  constructor(private readonly options: RabbitBrokerOptions) {
    assertName('prefix', options.prefix);
    this.logger = options.logger ?? silentLogger;
    this.formats = options.formats ?? new WireFormats();
    this.deadLetters = new RabbitDeadLetters({
      prefix: options.prefix,
      logger: this.logger,
      conn: () => this.conn(),
      confirmChannel: () => this.confirmChannel(),
      declared: this.declared,
      queueName: (queue) => this.queueName(queue),
      read: (topic, msg) => this.read(topic, msg),
      typeOf: (topic, msg) => this.typeOf(topic, msg),
    });
  }

  /** Connects eagerly so that a wrong URL fails at start-up. */
  static async connect(options: RabbitBrokerOptions): Promise<RabbitBroker> {
    const broker = new RabbitBroker(options);
    await broker.conn();
    return broker;
  }

  async publish(topic: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (this.closed) throw new BrokerClosedError();
    const ch = await this.confirmChannel();
    await this.ensureExchange(ch, topic);
    const exchange = this.exchangeName(topic);
    const confirms = events.map(
      ({ event, key, text }) =>
        new Promise<void>((resolve, reject) => {
          assertName('event type', event.type);
          const { body, contentType } = this.formats.encode(topic, event, text);
          ch.publish(
            exchange,
            event.type,
            Buffer.from(body.buffer, body.byteOffset, body.byteLength),
            {
              persistent: true,
              messageId: event.id,
              type: event.type,
              contentType,
              timestamp: Math.floor(event.timestamp / 1000),
              headers: { [KEY_HEADER]: key ?? event.id },
            },
            (err: unknown) => (err ? reject(toError(err)) : resolve()),
          );
        }),
    );
    const results = await Promise.allSettled(confirms);
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
      onFailure: () => this.exchanges.delete(topic),
    });
  }

  async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    assertName('queue', spec.queue);
    const concurrency = spec.ordered ? 1 : (spec.concurrency ?? 1);
    const runner = new DeliveryRunner({
      queue: spec.queue,
      types: spec.types,
      accept: spec.accept,
      handler,
      concurrency,
      maxAttempts: spec.maxAttempts ?? this.options.maxAttempts,
      retry: this.options.retry,
      logger: this.logger,
      observer: this.options.observer,
      isTransient: this.options.isTransient,
    });
    const timers = new Set<NodeJS.Timeout>();
    let channel: Channel | undefined;
    let stopped = false;

    // (Re)attaches to the queue; runs again whenever the channel dies unasked.
    const attach = async (): Promise<void> => {
      await this.declareQueue(spec);
      const ch = await (await this.conn()).createChannel();
      channel = ch;
      ch.on('error', (err: unknown) =>
        this.logger.warn({ err, queue: spec.queue }, 'consumer channel error'),
      );
      ch.on('close', () => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        if (!stopped && !this.closed) void reattach();
      });
      // Room for the running handlers plus events waiting for a delayed retry; an
      // ordered queue takes one event at a time (and has a single active consumer).
      await ch.prefetch(spec.ordered ? 1 : concurrency * 2 + 32);
      await ch.consume(this.queueName(spec.queue), (msg) => {
        if (msg) {
          const delivery = this.inbound(ch, spec, msg, timers);
          if (delivery) runner.push(delivery);
        }
      });
    };
    const reattach = async () => {
      for (let n = 1; !stopped && !this.closed; n += 1) {
        await abortableSleep(Math.min(5_000, 100 * 2 ** n), this.closing.signal);
        try {
          await attach();
          return;
        } catch (err) {
          this.logger.warn({ err, queue: spec.queue }, 'consumer reattach failed');
        }
      }
    };
    await attach();

    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        stopped = true;
        await runner.stop();
        for (const t of timers) clearTimeout(t);
        // Closing the channel returns unacknowledged events to the queue.
        await channel?.close().catch(() => undefined);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async subscribe(spec: SubscribeSpec, handler: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError();
    const { topic } = spec;
    let channel: Channel | undefined;
    let stopped = false;
    let reattaching = false;

    // A private, server-named queue that lives as long as its channel: what is
    // published while there is none is lost, so each attach after the first is a gap.
    const attach = async (): Promise<void> => {
      const ch = await (await this.conn()).createChannel();
      channel = ch;
      ch.on('error', (err: unknown) =>
        this.logger.warn({ err, topic }, 'subscriber channel error'),
      );
      ch.on('close', () => {
        if (!stopped && !this.closed && !reattaching) void reattach();
      });
      await this.ensureExchange(ch, topic);
      const { queue } = await ch.assertQueue('', {
        exclusive: true,
        autoDelete: true,
        durable: false,
      });
      for (const type of new Set(spec.types)) {
        await ch.bindQueue(queue, this.exchangeName(topic), type);
      }
      await ch.consume(
        queue,
        (msg) => {
          if (!msg) return;
          try {
            const event = this.read(topic, msg);
            const key = headerString(msg, KEY_HEADER) ?? event.id;
            handler({ event, key, topic, attempt: 1 }).catch((err: unknown) =>
              this.logger.warn({ err, topic }, 'subscriber failed'),
            );
          } catch (err) {
            this.logger.warn({ err, topic }, 'undecodable event on subscription');
          }
        },
        { noAck: true },
      );
    };
    const reattach = async () => {
      reattaching = true;
      try {
        for (let n = 1; !stopped && !this.closed; n += 1) {
          await abortableSleep(Math.min(5_000, 100 * 2 ** n), this.closing.signal);
          if (stopped || this.closed) return;
          try {
            await attach();
          } catch (err) {
            this.logger.warn({ err, topic }, 'subscriber reattach failed');
            await channel?.close().catch(() => undefined);
            continue;
          }
          this.tellGap(spec, topic);
          return;
        }
      } finally {
        reattaching = false;
      }
    };
    try {
      await attach();
    } catch (err) {
      stopped = true;
      await channel?.close().catch(() => undefined);
      throw err;
    }

    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        stopped = true;
        await channel?.close().catch(() => undefined);
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
    const ch = await this.confirmChannel();
    await ch.checkExchange('amq.topic');
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort();
      await Promise.all([...this.subscriptions].map((s) => s.stop()));
      const conn = await this.connection?.catch(() => undefined);
      await conn?.close().catch(() => undefined);
    })();
    return this.closed;
  }

  /** Deletes a topic's exchange, as an operator might by mistake (tests of recovery). */
  async deleteTopic(topic: string): Promise<void> {
    const ch = await (await this.conn()).createChannel();
    await ch.deleteExchange(this.exchangeName(topic));
    await ch.close();
  }

  private inbound(
    ch: Channel,
    spec: ConsumeSpec,
    msg: ConsumeMessage,
    timers: Set<NodeJS.Timeout>,
  ): InboundDelivery | undefined {
    let event: EventMessage;
    try {
      event = this.read(spec.topic, msg);
    } catch (err) {
      // Cannot be handled now or ever: to the dead letters with the reason, for a human.
      this.logger.warn({ err, queue: spec.queue }, 'undecodable event; dead-lettering');
      this.options.observer?.handled?.(spec.queue, 'dead');
      void this.deadLetters.store(
        ch,
        spec,
        msg,
        headerString(msg, KEY_HEADER) ?? '',
        describe(err),
      );
      return undefined;
    }
    const key = headerString(msg, KEY_HEADER) ?? event.id;
    const count = Number(msg.properties.headers?.['x-delivery-count'] ?? 0);
    return {
      event,
      key,
      topic: spec.topic,
      attempt: (Number.isFinite(count) ? count : 0) + 1,
      ack: () => ch.ack(msg),
      // Held back for the delay, then returned to the queue; other events flow meanwhile.
      retry: (delayMs) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          try {
            ch.nack(msg, false, true);
          } catch {
            /* channel gone: the broker returns the event by itself */
          }
        }, delayMs);
        timers.add(timer);
      },
      deadLetter: (reason) => this.deadLetters.store(ch, spec, msg, key, reason),
    };
  }

  /**
   * The event type of a message: its routing key when it came through the topic's
   * exchange, else (a replay or a dead letter) the `type` property.
   */
  private typeOf(topic: string, msg: MessageLike): string {
    if (msg.fields.exchange === this.exchangeName(topic)) return msg.fields.routingKey;
    return (msg.properties.type as string | undefined) ?? msg.fields.routingKey;
  }

  /** Reads a message of `topic` with its codec; throws `UndecodableEventError`. */
  private read(topic: string, msg: MessageLike): EventMessage {
    const messageId = msg.properties.messageId as string | undefined;
    const seconds = Number(msg.properties.timestamp);
    return this.formats.decode(topic, msg.content, {
      type: this.typeOf(topic, msg),
      contentType: msg.properties.contentType as string | undefined,
      fallbackId: () => messageId || bodyDigestId(msg.content),
      fallbackTimestamp: () => (seconds > 0 ? seconds * 1000 : Date.now()),
    });
  }

  /**
   * Declares the queue, its dead-letter queue and bindings on a channel of its own.
   * A queue that already exists with other arguments (say, `bus.maxAttempts` was
   * changed) makes RabbitMQ close the channel with 406; it is then used as it is.
   */
  private async declareQueue(spec: ConsumeSpec): Promise<void> {
    const conn = await this.conn();
    let ch = await conn.createChannel();
    ch.on('error', () => undefined);
    const name = this.queueName(spec.queue);
    try {
      await this.ensureExchange(ch, spec.topic);
      await this.deadLetters.declare(ch, spec.queue);
      try {
        await ch.assertQueue(name, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            'x-dead-letter-exchange': this.deadLetters.exchangeName,
            'x-dead-letter-routing-key': spec.queue,
            // Backstop: a handler that kills its process is not retried forever.
            'x-delivery-limit': this.options.maxAttempts + 2,
            ...(spec.ordered ? { 'x-single-active-consumer': true } : {}),
          },
        });
      } catch (err) {
        if ((err as { code?: unknown }).code !== 406) throw err;
        this.logger.warn({ queue: name }, 'queue exists with other arguments; using it as it is');
        ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.checkQueue(name);
      }
      this.declared.queues.add(name);
      for (const type of new Set(spec.types)) {
        await ch.bindQueue(name, this.exchangeName(spec.topic), type);
      }
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  private tellGap(spec: SubscribeSpec, topic: string): void {
    try {
      spec.onGap?.();
    } catch (err) {
      this.logger.warn({ err, topic }, 'live subscription gap handler failed');
    }
  }

  private ensureExchange(ch: Channel, topic: string): Promise<void> {
    assertName('topic', topic);
    let pending = this.exchanges.get(topic);
    if (!pending) {
      const name = this.exchangeName(topic);
      pending = ch.assertExchange(name, 'topic', { durable: true }).then(() => {
        this.declared.exchanges.add(name);
      });
      pending.catch(() => this.exchanges.delete(topic));
      this.exchanges.set(topic, pending);
    }
    return pending;
  }

  private conn(): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(new BrokerClosedError());
    this.connection ??= (async () => {
      const conn = await amqp.connect(this.options.url, {
        clientProperties: { connection_name: `easy-chat:${this.options.prefix}` },
      });
      conn.on('error', (err: unknown) => this.logger.warn({ err }, 'rabbitmq connection error'));
      conn.on('close', () => {
        // Next use reconnects; consumers reattach through their channel's close.
        this.connection = undefined;
        this.publishChannel = undefined;
        this.exchanges.clear();
      });
      return conn;
    })();
    this.connection.catch(() => (this.connection = undefined));
    return this.connection;
  }

  private confirmChannel(): Promise<ConfirmChannel> {
    this.publishChannel ??= (async () => {
      const ch = await (await this.conn()).createConfirmChannel();
      ch.on('error', (err: unknown) => this.logger.warn({ err }, 'publish channel error'));
      ch.on('close', () => {
        this.publishChannel = undefined;
        // A channel closed by an error (say, a deleted exchange) forgets what it declared.
        this.exchanges.clear();
      });
      return ch;
    })();
    this.publishChannel.catch(() => (this.publishChannel = undefined));
    return this.publishChannel;
  }

  private exchangeName(topic: string): string {
    return `${this.options.prefix}.${this.formats.name(topic)}`;
  }
  private queueName(queue: string): string {
    return `${this.options.prefix}.${queue}`;
  }
}
