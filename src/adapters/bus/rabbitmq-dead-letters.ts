import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { ConsumeSpec, DeadLetter } from './bus.js';
import { bodyDigestId, undecodableEvent } from './codec.js';
import { describe, type BusLogger } from './delivery-runner.js';
import type { EventMessage } from './event-message.js';

/** The header carrying an event's key (a Go consumer reads it as the message key). */
export const KEY_HEADER = 'ec-key';
const REASON_HEADER = 'ec-dead-reason';
/** The topic a dead letter came from (its decoding depends on it). */
const TOPIC_HEADER = 'ec-topic';

/** What the adapter reads of a consumed or fetched message. */
export type MessageLike = Pick<ConsumeMessage, 'content' | 'properties'> & {
  fields: { exchange: string; routingKey: string };
};

export interface RabbitDeadLetterDeps {
  prefix: string;
  logger: BusLogger;
  conn(): Promise<ChannelModel>;
  confirmChannel(): Promise<ConfirmChannel>;
  /** Names the broker declared (tests delete them afterwards). */
  declared: { exchanges: Set<string>; queues: Set<string> };
  queueName(queue: string): string;
  /** Decodes a message of `topic`; throws `UndecodableEventError`. */
  read(topic: string, msg: MessageLike): EventMessage;
  typeOf(topic: string, msg: MessageLike): string;
}

/**
 * A RabbitBroker's dead letters: the direct exchange `<prefix>.dlx` routes by queue
 * name to the quorum queue `<prefix>.<queue>.dlq`. Each keeps the bytes as they
 * arrived, the `type` and `content_type` properties and, in headers, the key, the
 * topic and the reason (the broker's own `x-death` when it dead-lettered by itself).
 */
export class RabbitDeadLetters {
  constructor(private readonly deps: RabbitDeadLetterDeps) {}

  /** The exchange consumer queues name as their `x-dead-letter-exchange`. */
  get exchangeName(): string {
    return `${this.deps.prefix}.dlx`;
  }

  /** Declares the queue's dead-letter queue and its binding. */
  async declare(ch: Channel, queue: string): Promise<void> {
    await ch.assertExchange(this.exchangeName, 'direct', { durable: true });
    this.deps.declared.exchanges.add(this.exchangeName);
    const dlq = this.queueName(queue);
    await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    this.deps.declared.queues.add(dlq);
    await ch.bindQueue(dlq, this.exchangeName, queue);
  }

  /**
   * Moves a consumed message to its queue's dead letters with the reason, then acks
   * it; if that publish fails, rejects it (the queue's own dead-lettering keeps it).
   */
  async store(
    ch: Channel,
    spec: ConsumeSpec,
    msg: ConsumeMessage,
    key: string,
    reason: string,
  ): Promise<void> {
    try {
      const pub = await this.deps.confirmChannel();
      await this.declare(pub, spec.queue);
      await new Promise<void>((resolve, reject) =>
        pub.publish(
          this.exchangeName,
          spec.queue,
          msg.content,
          {
            persistent: true,
            messageId: msg.properties.messageId as string | undefined,
            type: this.deps.typeOf(spec.topic, msg),
            contentType: msg.properties.contentType as string | undefined,
            headers: {
              [KEY_HEADER]: key,
              [TOPIC_HEADER]: spec.topic,
              [REASON_HEADER]: reason.slice(0, 1000),
            },
          },
          (err: unknown) => (err ? reject(toError(err)) : resolve()),
        ),
      );
      ch.ack(msg);
    } catch (err) {
      this.deps.logger.warn(
        { err, queue: spec.queue },
        'dead-letter publish failed; rejecting instead',
      );
      try {
        ch.nack(msg, false, false);
      } catch {
        /* channel gone: the broker returns the message by itself */
      }
    }
  }

  async take(queue: string, limit: number): Promise<DeadLetter[]> {
    const ch = await (await this.deps.conn()).createChannel();
    ch.on('error', () => undefined);
    try {
      await this.declare(ch, queue);
      const out: DeadLetter[] = [];
      while (out.length < limit) {
        const msg = await ch.get(this.queueName(queue), { noAck: false });
        if (!msg) break;
        ch.ack(msg);
        out.push(this.deadLetterOf(msg).dead);
      }
      return out;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async replay(queue: string, limit: number): Promise<DeadLetter[]> {
    const conn = await this.deps.conn();
    // checkQueue closes its channel when the queue is missing: a channel of its own.
    const probe = await conn.createChannel();
    probe.on('error', () => undefined);
    try {
      await probe.checkQueue(this.deps.queueName(queue));
    } finally {
      await probe.close().catch(() => undefined);
    }
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    try {
      await this.declare(ch, queue);
      const pub = await this.deps.confirmChannel();
      const out: DeadLetter[] = [];
      while (out.length < limit) {
        const msg = await ch.get(this.queueName(queue), { noAck: false });
        if (!msg) break;
        const { dead, decoded } = this.deadLetterOf(msg);
        if (!decoded) {
          // Not acknowledged: it returns to the dead-letter queue when the channel closes.
          this.deps.logger.warn({ queue }, 'dead letter cannot be replayed; left');
          continue;
        }
        // Straight to the queue through the default exchange (not to the topic's other
        // queues), confirmed before the dead letter is acknowledged.
        await new Promise<void>((resolve, reject) =>
          pub.sendToQueue(
            this.deps.queueName(queue),
            msg.content,
            {
              persistent: true,
              messageId: dead.event.id,
              type: dead.event.type,
              contentType: msg.properties.contentType as string | undefined,
              headers: { [KEY_HEADER]: dead.key },
            },
            (err: unknown) => (err ? reject(toError(err)) : resolve()),
          ),
        );
        ch.ack(msg);
        out.push(dead);
      }
      return out;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** A dead letter as the admin API shows it; `decoded` false for undecodable bytes. */
  private deadLetterOf(msg: MessageLike): { dead: DeadLetter; decoded: boolean } {
    const topic = headerString(msg, TOPIC_HEADER) ?? '';
    const reason = reasonOf(msg);
    const keyOf = (event: EventMessage) => headerString(msg, KEY_HEADER) ?? event.id;
    try {
      const event = this.deps.read(topic, msg);
      return { dead: { event, key: keyOf(event), reason }, decoded: true };
    } catch {
      const event = undecodableEvent(msg.content, {
        type: this.deps.typeOf(topic, msg),
        id: (msg.properties.messageId as string | undefined) || bodyDigestId(msg.content),
        timestamp: Date.now(),
        contentType: msg.properties.contentType as string | undefined,
      });
      return { dead: { event, key: keyOf(event), reason }, decoded: false };
    }
  }

  private queueName(queue: string): string {
    return `${this.deps.prefix}.${queue}.dlq`;
  }
}

export function headerString(
  msg: { properties: { headers?: Record<string, unknown> } },
  name: string,
): string | undefined {
  const value = msg.properties.headers?.[name];
  if (typeof value === 'string' && value !== '') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/** Why a dead letter died: our handler's reason, else the broker's (`x-death`). */
function reasonOf(msg: { properties: { headers?: Record<string, unknown> } }): string {
  const death = (
    msg.properties.headers?.['x-death'] as Array<{ reason?: string }> | undefined
  )?.[0];
  return headerString(msg, REASON_HEADER) ?? death?.reason ?? 'dead-lettered';
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(describe(err));
}
