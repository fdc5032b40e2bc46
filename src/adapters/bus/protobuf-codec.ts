import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import type { TSchema } from 'typebox';
import { compileInput } from '../../shared/input-schema.js';
import { UndecodableEventError, type DecodeHints, type EventCodec } from './codec.js';
import type { EventMessage } from './event-message.js';

export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

/** The envelope fields every mapped message declares (numbers 100-103 in proto/). */
const ENVELOPE_FIELDS = ['messageId', 'timestamp', 'source', 'traceId'] as const;
interface EnvelopeFields {
  messageId: string;
  timestamp: bigint;
  source: string;
  traceId: string;
}

/**
 * How one event type travels as a protobuf message: the generated message
 * descriptor, the TypeBox schema a decoded payload must match, and the mapping in
 * both directions (payload fields only; the codec fills the envelope fields).
 */
export interface ProtoMapping<P = unknown, D extends DescMessage = DescMessage> {
  message: D;
  payload: TSchema;
  toMessage(payload: P): MessageInitShape<D>;
  fromMessage(message: MessageShape<D>): P;
}

/** Declares a mapping with its types checked, erased for the codec's table. */
export function protoMapping<P, D extends DescMessage>(mapping: ProtoMapping<P, D>): ProtoMapping {
  return mapping;
}

/**
 * Protobuf payloads, one message per event type: the body is the message alone
 * (what the Go services `proto.Marshal`), with the event id, timestamp, source and
 * trace id in its fields 100-103. The type is not in the body: it comes from the
 * broker (subject, routing key or AMQP `type`). A decoded message must match its
 * payload schema, else it is undecodable (random bytes often parse as a message
 * of empty fields). A message without `message_id` gets the broker's id for it.
 */
export class ProtobufCodec implements EventCodec {
  readonly name = 'protobuf' as const;
  readonly contentType = PROTOBUF_CONTENT_TYPE;
  /** The media type registered for protobuf in 2023. */
  readonly alsoAccepts = ['application/protobuf'];
  private readonly validators = new Map<string, ReturnType<typeof compileInput>>();

  constructor(private readonly mappings: Readonly<Record<string, ProtoMapping>>) {
    for (const [type, { message, payload }] of Object.entries(mappings)) {
      const missing = ENVELOPE_FIELDS.filter((f) => !message.fields.some((d) => d.localName === f));
      if (missing.length > 0) {
        throw new Error(
          `${message.typeName} (for ${type}) lacks envelope fields ${missing.join()}`,
        );
      }
      // With the input rules (no NUL in strings, safe numbers): another system wrote it.
      this.validators.set(type, compileInput(payload));
    }
  }

  /** The fully qualified message name of a type (for docs and `protoc --decode`). */
  messageName(type: string): string | undefined {
    return this.mappings[type]?.message.typeName;
  }

  encode(event: EventMessage): Uint8Array {
    const mapping = this.mappings[event.type];
    if (!mapping) throw new Error(`no protobuf message for event type "${event.type}"`);
    const envelope: EnvelopeFields = {
      messageId: event.id,
      timestamp: BigInt(event.timestamp),
      source: event.metadata.source,
      traceId: event.metadata.traceId ?? '',
    };
    const init = {
      ...mapping.toMessage(event.payload),
      ...envelope,
    } as MessageInitShape<DescMessage>;
    return toBinary(mapping.message, create(mapping.message, init));
  }

  decode(body: Uint8Array, hints: DecodeHints): EventMessage {
    const mapping = this.mappings[hints.type];
    if (!mapping) {
      throw new UndecodableEventError(`no protobuf message for event type "${hints.type}"`);
    }
    const name = mapping.message.typeName;
    let message: MessageShape<DescMessage>;
    try {
      message = fromBinary(mapping.message, body);
    } catch (err) {
      throw new UndecodableEventError(`not a valid ${name}: ${(err as Error).message}`);
    }
    let payload: unknown;
    try {
      payload = mapping.fromMessage(message);
    } catch (err) {
      throw new UndecodableEventError(`${name}: ${(err as Error).message}`);
    }
    const validator = this.validators.get(hints.type)!;
    if (!validator.Check(payload)) {
      const first = validator.Errors(payload)[0];
      const where = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : '';
      throw new UndecodableEventError(
        `${name} does not make a valid ${hints.type}: ${where ? `${where} ` : ''}${first?.message ?? 'invalid'}`,
      );
    }
    const envelope = message as unknown as EnvelopeFields;
    return {
      id: envelope.messageId || hints.fallbackId(),
      type: hints.type,
      aggregate: 'system',
      timestamp: envelope.timestamp > 0n ? Number(envelope.timestamp) : hints.fallbackTimestamp(),
      payload,
      metadata: {
        source: envelope.source || 'unknown',
        version: 1,
        ...(envelope.traceId ? { traceId: envelope.traceId } : {}),
      },
    };
  }
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * The Go system's `int64 user_id` for one of easy-chat's user ids: the id itself
 * when it is a decimal integer that fits, else "0" (unset). easy-chat's own ids
 * are ULIDs and travel in the `uid` field.
 */
export function seedUserId(id: string | null | undefined): string {
  if (!id || !/^[1-9][0-9]{0,18}$/.test(id) || BigInt(id) > INT64_MAX) return '0';
  return id;
}

/** The user a message names: `uid`, else a non-zero `user_id`, else "" (nobody). */
export function userIdOf(message: { uid: string; userId: string }): string {
  if (message.uid) return message.uid;
  return message.userId !== '0' && message.userId !== '' ? message.userId : '';
}
