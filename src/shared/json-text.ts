/**
 * Pieces of JSON text written without `JSON.stringify`'s generic walk, for texts made
 * once per message from a few known fields (the `message-sent` event's payload):
 * each gives exactly what `JSON.stringify` gives for the same value.
 */

/** A string JSON holds as it is: printable ASCII without `"` and `\` (no escape needed). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * `JSON.stringify(text)`: the usual id or key (plain ASCII) quoted as it is, anything
 * else (quotes, backslashes, control characters, non-ASCII, lone surrogates) by
 * `JSON.stringify` itself, so every escape is its.
 */
export function jsonString(text: string): string {
  return PLAIN.test(text) ? '"' + text + '"' : JSON.stringify(text);
}

/**
 * Whether `value` is a number whose JSON is `String(value)` (finite; `JSON.stringify`
 * writes NaN and the infinities as null).
 */
export function isJsonNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
