import { randomFillSync } from 'node:crypto';

/** Crockford's base32, the ULID alphabet. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const TIME_LENGTH = 10;
const LENGTH = 26;

/**
 * Cryptographic randomness drawn in blocks: asking the OS for a few bytes per id
 * showed up in profiles of the hot path.
 */
const pool = new Uint8Array(4096);
let next = pool.length;
function randomDigit(): number {
  if (next >= pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! & 31;
}

/**
 * The character codes of the last id: 10 of time (ms, most significant first),
 * 16 of randomness. Each id is made from them in one string of its own; the `ulid`
 * package built it from some thirty concatenated one-character strings, about 350
 * bytes of garbage per id, three ids a message (docs/performance-log.md).
 */
const codes: number[] = new Array<number>(LENGTH).fill(CODES[0]!);
/** The random part's digits (0–31), least significant last. */
const digits = new Uint8Array(LENGTH - TIME_LENGTH);
let lastTime = -1;

/**
 * A new unique id: a ULID (26 characters, Crockford base32). Ids sort by creation
 * time and stay strictly increasing within one process (monotonic: within one
 * millisecond, or if the clock steps back, the random part of the last id plus one),
 * so they also serve as a tie-breaker for ordering. Clients must treat them as opaque
 * strings.
 */
export function newId(): string {
  const now = Date.now();
  if (now > lastTime) {
    lastTime = now;
    let time = now;
    for (let i = TIME_LENGTH - 1; i >= 0; i -= 1) {
      codes[i] = CODES[time % 32]!;
      time = Math.floor(time / 32);
    }
    for (let i = 0; i < digits.length; i += 1) {
      const digit = randomDigit();
      digits[i] = digit;
      codes[TIME_LENGTH + i] = CODES[digit]!;
    }
  } else {
    increment();
  }
  return String.fromCharCode.apply(null, codes);
}

/** The random part plus one (the monotonic ULID of the same millisecond). */
function increment(): void {
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    const digit = digits[i]! + 1;
    if (digit < 32) {
      digits[i] = digit;
      codes[TIME_LENGTH + i] = CODES[digit]!;
      return;
    }
    digits[i] = 0;
    codes[TIME_LENGTH + i] = CODES[0]!;
  }
  // 2^80 ids in one millisecond: as the `ulid` package, refuse rather than repeat.
  throw new Error('ULID random part exhausted within one millisecond');
}
