/**
 * A JS array as a parameter in PostgreSQL's binary array format (array_send's
 * layout), for a parameter cast to an array type of the same element type
 * (`?::text[]`, `?::bigint[]`, `?::smallint[]`). pg sends a Buffer parameter as
 * binary and everything else as text; given an array, pg builds its text literal
 * (`{"a","b",NULL}`) element by element, a string a step. For the batch statement of
 * single-chat sends (28 arrays: pair-send.ts) that was 6.8 KB of heap a message,
 * a sixth of what the server allocates one on PostgreSQL, every byte of it a string
 * dead at once (docs/performance-log.md, "The batch's arrays in binary"). Written
 * here, an array is one Buffer whose bytes are PostgreSQL's own, with no string made.
 *
 * The element type is the caller's: PostgreSQL refuses an array whose element type is
 * not the parameter's ("wrong element type"), so `text` goes with `?::text[]`,
 * `int8` with `?::bigint[]`, `int2` with `?::smallint[]`. Elements: null or undefined
 * (NULL), strings for text (UTF-8, as pg writes text: a lone surrogate becomes
 * U+FFFD), safe integers for int8, integers in range for int2. Anything else is the
 * caller's mistake and throws a TypeError before a byte is sent.
 */
export type PgElementType = 'text' | 'int8' | 'int2';

/** The element types' oids (pg_type), which the format names. */
const OID: Record<PgElementType, number> = { text: 25, int8: 20, int2: 21 };
/** A fixed-size element's bytes. */
const WIDTH: Record<'int8' | 'int2', number> = { int8: 8, int2: 2 };
const TWO_32 = 2 ** 32;

export function pgBinaryArray(type: PgElementType, values: readonly unknown[]): Buffer {
  const count = values.length;
  // Header: dimensions, has-nulls flag, element oid; then the one dimension's length
  // and lower bound. An empty array has no dimension (what array_send writes).
  let size = count === 0 ? 12 : 20;
  let nulls = 0;
  for (let i = 0; i < count; i += 1) {
    const value = values[i];
    size += 4;
    if (value == null) nulls = 1;
    else size += byteLength(type, value, i);
  }
  const buffer = Buffer.allocUnsafe(size);
  buffer.writeInt32BE(count === 0 ? 0 : 1, 0);
  buffer.writeInt32BE(nulls, 4);
  buffer.writeInt32BE(OID[type], 8);
  if (count === 0) return buffer;
  buffer.writeInt32BE(count, 12);
  buffer.writeInt32BE(1, 16);
  let offset = 20;
  for (let i = 0; i < count; i += 1) {
    const value = values[i];
    if (value == null) {
      buffer.writeInt32BE(-1, offset);
      offset += 4;
    } else if (type === 'text') {
      const written = buffer.write(value as string, offset + 4, 'utf8');
      buffer.writeInt32BE(written, offset);
      offset += 4 + written;
    } else if (type === 'int8') {
      const n = value as number;
      buffer.writeInt32BE(8, offset);
      buffer.writeInt32BE(Math.floor(n / TWO_32), offset + 4);
      buffer.writeUInt32BE(n >>> 0, offset + 8);
      offset += 12;
    } else {
      buffer.writeInt32BE(2, offset);
      buffer.writeInt16BE(value as number, offset + 4);
      offset += 6;
    }
  }
  return buffer;
}

/** An element's bytes in the format, once it is known to be of the type. */
function byteLength(type: PgElementType, value: unknown, index: number): number {
  if (type === 'text') {
    if (typeof value !== 'string') throw refused(type, value, index);
    return Buffer.byteLength(value, 'utf8');
  }
  const fits =
    type === 'int8'
      ? Number.isSafeInteger(value)
      : Number.isInteger(value) && (value as number) >= -32_768 && (value as number) <= 32_767;
  if (!fits) throw refused(type, value, index);
  return WIDTH[type];
}

function refused(type: PgElementType, value: unknown, index: number): TypeError {
  const what = typeof value === 'number' ? String(value) : `a ${typeof value}`;
  return new TypeError(`pgBinaryArray(${type}): element ${index} is ${what}`);
}
