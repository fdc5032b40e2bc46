import { afterEach, describe, expect, it } from 'vitest';
import { CACHES, TEST_REDIS_URL, uniqueName } from '../../test/support/backends.js';
import type { Cache } from '../adapters/cache/cache.js';
import { MemoryCache } from '../adapters/cache/memory-cache.js';
import { RedisCache } from '../adapters/cache/redis-cache.js';
import { TokenService } from './token.service.js';

describe.each(CACHES)('TokenService.revokeAllFor on %s cache', (kind) => {
  let cache: Cache;
  afterEach(async () => {
    await cache.close();
  });

  it("revokes every token a user holds, leaves other users' and later tokens alone", async () => {
    cache =
      kind === 'memory'
        ? new MemoryCache()
        : new RedisCache({ url: TEST_REDIS_URL!, keyPrefix: `${uniqueName('tok')}:` });
    let now = Date.UTC(2030, 0, 1, 12, 0, 0, 500);
    const tokens = new TokenService({
      secret: 's'.repeat(32),
      ttlSec: 3600,
      cache,
      clock: () => now,
    });
    const old1 = await tokens.issue('alice');
    now += 5_000;
    const old2 = await tokens.issue('alice');
    const bob = await tokens.issue('bob');

    await tokens.revokeAllFor('alice');
    for (const { token } of [old1, old2]) {
      await expect(tokens.verify(token)).rejects.toMatchObject({
        code: 100003,
        message: 'token revoked',
      });
    }
    await expect(tokens.verify(bob.token)).resolves.toMatchObject({ userId: 'bob' });

    // A token issued in a later second (say, after the account is enabled again) works.
    now += 1_000;
    const fresh = await tokens.issue('alice');
    await expect(tokens.verify(fresh.token)).resolves.toMatchObject({ userId: 'alice' });
  });
});
