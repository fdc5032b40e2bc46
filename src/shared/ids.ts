import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/**
 * A new unique id: a ULID (26 characters, Crockford base32). Ids sort by creation
 * time and stay strictly increasing within one process, so they also serve as a
 * tie-breaker for ordering. Clients must treat them as opaque strings.
 */
export function newId(): string {
  return nextUlid();
}
