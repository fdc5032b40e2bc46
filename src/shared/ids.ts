import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * Cryptographic randomness drawn in blocks: the default ULID generator asks the
 * OS for a few bytes per character, which showed up in profiles of the hot path.
 */
const pool = new Uint32Array(2048);
let next = pool.length;
function prng(): number {
  if (next >= pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 0x1_0000_0000;
}

const nextUlid = monotonicFactory(prng);

/**
 * A new unique id: a ULID (26 characters, Crockford base32). Ids sort by creation
 * time and stay strictly increasing within one process, so they also serve as a
 * tie-breaker for ordering. Clients must treat them as opaque strings.
 */
export function newId(): string {
  return nextUlid();
}
