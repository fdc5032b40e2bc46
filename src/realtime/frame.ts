import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/** frameType values of the Go system's frame. */
export const FrameType = {
  data: 0,
  ping: 1,
  ack: 2,
  noAck: 3,
  error: 9,
} as const;

/**
 * The wire frame `{frameType, id, ackSeq?, method?, formId?, data?}`. `formId` is the
 * Go system's spelling of the sender; `fromId` is accepted as an alias on input.
 */
export const ClientFrameSchema = Type.Object({
  frameType: Type.Union([
    Type.Literal(FrameType.data),
    Type.Literal(FrameType.ping),
    Type.Literal(FrameType.ack),
    Type.Literal(FrameType.noAck),
  ]),
  id: Type.Optional(Type.String({ maxLength: 128 })),
  ackSeq: Type.Optional(Type.Integer()),
  method: Type.Optional(Type.String({ maxLength: 64 })),
  formId: Type.Optional(Type.String({ maxLength: 64 })),
  fromId: Type.Optional(Type.String({ maxLength: 64 })),
  data: Type.Optional(Type.Unknown()),
});
export type ClientFrame = Static<typeof ClientFrameSchema>;

const checkFrame = Compile(ClientFrameSchema);

export type ParsedFrame =
  { ok: true; frame: ClientFrame } | { ok: false; reason: string; id?: string; method?: string };

/** Parses one text message from a client; never throws. */
export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not valid JSON' };
  }
  if (checkFrame.Check(value)) return { ok: true, frame: value };
  const partial = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const first = checkFrame.Errors(value)[0];
  const where = first?.instancePath ? first.instancePath.slice(1) : 'frame';
  return {
    ok: false,
    reason: `${where} ${first?.message ?? 'is not a frame'}`,
    ...(typeof partial.id === 'string' ? { id: partial.id.slice(0, 128) } : {}),
    ...(typeof partial.method === 'string' ? { method: partial.method.slice(0, 64) } : {}),
  };
}

/** A server frame, serialized. Fields absent from an answer are left out. */
export interface ServerFrame {
  frameType: number;
  id?: string;
  method?: string;
  formId?: string;
  data?: unknown;
}

export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export const PONG = encodeFrame({ frameType: FrameType.ping });

export function answerFrame(id: string | undefined, method: string | undefined, data: unknown) {
  return encodeFrame({ frameType: FrameType.ack, id: id ?? '', method, data });
}

export function errorFrame(
  id: string | undefined,
  method: string | undefined,
  error: { code: number; msg: string },
) {
  return encodeFrame({ frameType: FrameType.error, id: id ?? '', method, data: error });
}
