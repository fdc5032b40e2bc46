import { afterEach, describe, expect, it } from 'vitest';
import { CACHES, TEST_REDIS_URL, uniqueName } from '../../../test/support/backends.js';
import type { Cache } from './cache.js';
import { MemoryCache } from './memory-cache.js';
import { RedisCache } from './redis-cache.js';
import { RateLimiter } from './rate-limiter.js';

describe.each(CACHES)('RateLimiter on %s', (kind) => {
  let cache: Cache;
  afterEach(async () => {
    await cache.close();
  });
  const open = () =>
    kind === 'memory'
      ? new MemoryCache()
      : new RedisCache({ url: TEST_REDIS_URL!, keyPrefix: `${uniqueName('rl')}:` });

  it('allows up to the limit, then refuses with the time left in the window', async () => {
    cache = open();
    const limiter = new RateLimiter(cache, 'test');
    const rule = { limit: 3, windowSec: 60 };
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await limiter.hit('k', rule));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results[4]!.retryAfterMs).toBeGreaterThan(50_000);
    expect(results[4]!.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('counts keys and namespaces separately', async () => {
    cache = open();
    const a = new RateLimiter(cache, 'a');
    const b = new RateLimiter(cache, 'b');
    const rule = { limit: 1, windowSec: 60 };
    expect((await a.hit('x', rule)).allowed).toBe(true);
    expect((await a.hit('x', rule)).allowed).toBe(false);
    expect((await a.hit('y', rule)).allowed).toBe(true);
    expect((await b.hit('x', rule)).allowed).toBe(true);
  });
});
