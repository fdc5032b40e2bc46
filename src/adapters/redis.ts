import type { Redis } from 'ioredis';
import { DependencyUnavailableError } from './unavailable.js';

/** Replies that mean "not now" (loading a dump, failing over), not a bad command. */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

/**
 * Runs one call on an ioredis client for `dependency` ("cache", "presence"). While
 * the client is reconnecting the call fails at once instead of queueing for seconds;
 * connection failures become DependencyUnavailableError (503 / 100011). Other
 * replies (a wrong command) are bugs and stay as they are.
 */
export async function redisCall<T>(
  redis: Redis,
  dependency: string,
  call: () => Promise<T>,
): Promise<T> {
  if (!isUsable(redis)) throw new DependencyUnavailableError(dependency);
  try {
    return await call();
  } catch (err) {
    const reply = (err as { name?: unknown }).name === 'ReplyError';
    if (reply && !UNAVAILABLE_REPLY.test((err as Error).message)) throw err;
    throw new DependencyUnavailableError(dependency, { cause: err });
  }
}

/**
 * Whether calls may be sent now: connected, or connecting for the first time or
 * again (they wait in the offline queue for the connection). A client between
 * reconnection attempts, or closed, is not.
 */
export function isUsable(redis: Redis): boolean {
  return redis.status !== 'reconnecting' && redis.status !== 'end' && redis.status !== 'close';
}
