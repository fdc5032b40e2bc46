import { createHash } from 'node:crypto';
import type { EventMessage } from './event-message.js';

/**
 * How events become bytes on a topic and back. Every adapter encodes with the
 * topic's codec (`bus.topics.<topic>.codec`) and decodes by the message's content
 * type when it carries one, else with the topic's codec: so a queue keeps working
 * while its topic switches codec, and messages from producers that set no content
 * type (the Go services) are read as the topic says.
 */
export interface EventCodec {
  readonly name: CodecName;
  /** Sent as the message's content type (AMQP property, NATS `Content-Type` header). */
  readonly contentType: string;
  /** Other content types it reads. */
  readonly alsoAccepts?: readonly string[];
  encode(event: EventMessage): Uint8Array;
  /** Throws `UndecodableEventError` with a reason fit for a dead letter. */
  decode(body: Uint8Array, hints: DecodeHints): EventMessage;
}

export type CodecName = 'json' | 'protobuf';

/** What the broker knows about a message besides its body. */
export interface DecodeHints {
  /** The type the broker routed it by (NATS subject, AMQP `type` or routing key). */
  type: string;
  /** An id for a message that carries none (the broker's message id, else a hash of the body). */
  fallbackId(): string;
  /** Epoch ms for a message that carries no timestamp (the broker's, else now). */
  fallbackTimestamp(): number;
}

/** A message that no codec can read: it is dead-lettered with this reason, never retried. */
export class UndecodableEventError extends Error {
  override name = 'UndecodableEventError';
}

export const JSON_CONTENT_TYPE = 'application/json';

/** The event envelope as JSON text (the default on every topic). */
export const jsonCodec: EventCodec = {
  name: 'json',
  contentType: JSON_CONTENT_TYPE,
  encode: (event) => Buffer.from(JSON.stringify(event)),
  decode(body) {
    let parsed: Partial<EventMessage> | null;
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8')) as Partial<EventMessage> | null;
    } catch (err) {
      throw new UndecodableEventError(`not JSON: ${(err as Error).message}`);
    }
    if (
      !parsed ||
      typeof parsed !== 'object' ||
      typeof parsed.id !== 'string' ||
      typeof parsed.type !== 'string'
    ) {
      throw new UndecodableEventError('not an event envelope (JSON without string id and type)');
    }
    return parsed as EventMessage;
  },
};

/** A topic's name on the broker and its codecs. */
export interface TopicFormat {
  /** The name streams, subjects, exchanges and message keys use (default: the topic). */
  name?: string;
  /** What the topic is written in (default JSON). */
  codec?: EventCodec;
  /** What else it reads, chosen by content type (JSON is always read). */
  reads?: readonly EventCodec[];
}

/**
 * The wire format of every topic one broker serves: names and codecs from
 * `bus.topics`; topics not listed keep their own name and JSON.
 */
export class WireFormats {
  private readonly readers = new Map<string, Map<string, EventCodec>>();

  constructor(private readonly topics: Readonly<Record<string, TopicFormat>> = {}) {
    for (const [topic, format] of Object.entries(topics)) {
      const byType = new Map<string, EventCodec>();
      for (const codec of [jsonCodec, ...(format.reads ?? []), this.codec(topic)]) {
        for (const type of [codec.contentType, ...(codec.alsoAccepts ?? [])]) {
          byType.set(type, codec);
        }
      }
      this.readers.set(topic, byType);
    }
  }

  /** The topic's name on the broker. */
  name(topic: string): string {
    return this.topics[topic]?.name ?? topic;
  }

  codec(topic: string): EventCodec {
    return this.topics[topic]?.codec ?? jsonCodec;
  }

  /**
   * The event's bytes on the topic. `text`, when given, is `JSON.stringify(event)`
   * already made (the outbox's envelope): a JSON topic sends it as it is, the same bytes
   * the codec would make.
   */
  encode(
    topic: string,
    event: EventMessage,
    text?: string,
  ): { body: Uint8Array; contentType: string } {
    const codec = this.codec(topic);
    if (text !== undefined && codec === jsonCodec) {
      return { body: Buffer.from(text), contentType: codec.contentType };
    }
    return { body: codec.encode(event), contentType: codec.contentType };
  }

  /**
   * Decodes with the codec of the message's content type, else the topic's. Throws
   * `UndecodableEventError` (any decoder failure is turned into one).
   */
  decode(
    topic: string,
    body: Uint8Array,
    hints: DecodeHints & { contentType?: string },
  ): EventMessage {
    const contentType = hints.contentType?.split(';')[0]?.trim().toLowerCase();
    const reader = contentType
      ? (this.readers.get(topic)?.get(contentType) ??
        (contentType === JSON_CONTENT_TYPE ? jsonCodec : undefined))
      : undefined;
    const codec = reader ?? this.codec(topic);
    try {
      return codec.decode(body, hints);
    } catch (err) {
      if (err instanceof UndecodableEventError) throw err;
      throw new UndecodableEventError(`${codec.name}: ${(err as Error).message}`);
    }
  }
}

/** A stable id for a message that has none of its own: the SHA-256 of its bytes. */
export function bodyDigestId(body: Uint8Array): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * What a dead letter shows for a message no codec could read: its bytes in base64
 * under `payload.undecodable`, so an operator sees what arrived.
 */
export function undecodableEvent(
  body: Uint8Array,
  info: { type: string; id: string; timestamp: number; contentType?: string },
): EventMessage {
  return {
    id: info.id,
    type: info.type,
    aggregate: 'system',
    timestamp: info.timestamp,
    payload: {
      undecodable: {
        contentType: info.contentType ?? null,
        base64: Buffer.from(body).toString('base64'),
      },
    },
    metadata: { source: 'unknown', version: 0 },
  };
}
