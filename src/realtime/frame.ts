import { Type, type Static } from 'typebox';
import { compileInput } from '../shared/input-schema.js';

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

const checkFrame = compileInput(ClientFrameSchema);

export type ParsedFrame =
  { ok: true; frame: ClientFrame } | { ok: false; reason: string; id?: string; method?: string };

/** Parses one text message from a client; never throws. */
export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // A cut or broken frame may still show which request it was.
    return { ok: false, reason: 'frame is not valid JSON', ...readFrameHead(text) };
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

/**
 * The top-level `id` and `method` of a frame too large to parse, read by scanning its
 * text without building it: strings are skipped as a whole and only keys at depth 1
 * count, so a nested "id" inside `data` is never mistaken for the frame's. The error
 * answering an oversized request can then carry the request's id.
 */
export function readFrameHead(text: string): { id?: string; method?: string } {
  const out: { id?: string; method?: string } = {};
  let depth = 0;
  let key: string | undefined;
  let expectValue = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (end < 0) break;
      if (depth === 1 && !expectValue) {
        key = decodeString(text.slice(i, end + 1));
      } else if (depth === 1 && (key === 'id' || key === 'method')) {
        const value = decodeString(text.slice(i, end + 1));
        if (value !== undefined) out[key] = value.slice(0, key === 'id' ? 128 : 64);
        if (out.id !== undefined && out.method !== undefined) break;
      }
      if (depth === 1) expectValue = false;
      i = end;
    } else if (ch === '{' || ch === '[') {
      depth += 1;
      expectValue = false;
    } else if (ch === '}' || ch === ']') {
      depth -= 1;
    } else if (ch === ':' && depth === 1) {
      expectValue = true;
    } else if (ch === ',' && depth === 1) {
      key = undefined;
      expectValue = false;
    }
  }
  return out;
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i;
  }
  return -1;
}

function decodeString(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

/**
 * The JSON of `data` objects that go into more than one frame unchanged (a stored
 * message: its answer to the sender and its push to the recipient), encoded once
 * (encodingOf). Weakly held: gone with the object.
 */
const sharedEncodings = new WeakMap<object, string>();

/**
 * `data`'s JSON, made once for every frame it goes in: a frame carrying `data` later
 * splices this text in instead of encoding `data` again. The caller does not change
 * `data` from now on.
 */
export function encodingOf(data: object): string {
  let json = sharedEncodings.get(data);
  if (json === undefined) {
    json = JSON.stringify(data);
    sharedEncodings.set(data, json);
  }
  return json;
}

/**
 * The text of a server frame whose keys come in this order (frameType, id, method,
 * formId, data), absent ones left out: byte for byte what `JSON.stringify` makes of
 * such an object, written without building it. `dataJson` is `data`'s JSON when the
 * caller has it (a message's, made once for its answer and its push).
 */
export function writeFrame(
  frameType: number,
  id: string | undefined,
  method: string | undefined,
  formId: string | undefined,
  data: unknown,
  dataJson?: string,
): string {
  let text = '{"frameType":' + String(frameType);
  if (id !== undefined) text += ',"id":' + JSON.stringify(id);
  if (method !== undefined) text += ',"method":' + JSON.stringify(method);
  if (formId !== undefined) text += ',"formId":' + JSON.stringify(formId);
  const json = dataJson ?? dataEncoding(data);
  // JSON.stringify leaves out a key whose value has no JSON (undefined, a function).
  if (json !== undefined) text += ',"data":' + json;
  return text + '}';
}

/** `data`'s JSON; undefined (as JSON.stringify answers, whatever its type says) if it has none. */
function dataEncoding(data: unknown): string | undefined {
  if (typeof data === 'object' && data !== null) {
    const json = sharedEncodings.get(data);
    if (json !== undefined) return json;
  }
  return JSON.stringify(data);
}

export const PONG = writeFrame(FrameType.ping, undefined, undefined, undefined, undefined);

export function answerFrame(id: string | undefined, method: string | undefined, data: unknown) {
  return writeFrame(FrameType.ack, id ?? '', method, undefined, data);
}

export function errorFrame(
  id: string | undefined,
  method: string | undefined,
  error: { code: number; msg: string },
) {
  return writeFrame(FrameType.error, id ?? '', method, undefined, error);
}
