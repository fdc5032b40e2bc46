import { afterEach, describe, expect, it } from 'vitest';
import { CACHES, STORAGES, TEST_REDIS_URL, uniqueName } from '../../test/support/backends.js';
import { testConfig } from '../../test/support/test-app.js';
import type { Cache } from '../adapters/cache/cache.js';
import { MemoryCache } from '../adapters/cache/memory-cache.js';
import { RedisCache } from '../adapters/cache/redis-cache.js';
import { openStorage, type Storage } from '../adapters/storage/storage.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { TokenRevocations } from './token-revocations.js';
import { TokenService } from './token.service.js';

const combinations = STORAGES.flatMap((storage) => CACHES.map((cache) => [storage, cache]));

describe.each(combinations)('TokenService revocations on %s with %s cache', (storageKind, kind) => {
  let cache: Cache;
  let storage: Storage;
  let cleanup: () => Promise<void>;
  afterEach(async () => {
    await cache.close();
    await storage.close();
    await cleanup();
  });

  const newCache = () =>
    kind === 'memory'
      ? new MemoryCache()
      : new RedisCache({ url: TEST_REDIS_URL!, keyPrefix: `${uniqueName('tok')}:` });

  async function setUp(clock: () => number) {
    const made = testConfig({ storage: storageKind as 'sqlite' | 'postgres' });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    cache = newCache();
    const service = (c: Cache) =>
      new TokenService({
        secret: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c',
        ttlSec: 3600,
        revocations: new TokenRevocations({ db: storage.db, cache: c, clock }),
        clock,
      });
    return { service };
  }

  it("revokes every token a user holds, leaves other users' and later tokens alone", async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 0, 500);
    const { service } = await setUp(() => now);
    const tokens = service(cache);
    const old1 = await tokens.issue('alice');
    now += 5_000;
    const old2 = await tokens.issue('alice');
    const bob = await tokens.issue('bob');

    await tokens.revokeAllFor('alice');
    // Checked once more with an empty cache: the cut-off is in SQL.
    for (const checker of [tokens, service(newCache())]) {
      for (const { token } of [old1, old2]) {
        await expect(checker.verify(token)).rejects.toMatchObject({
          code: 100003,
          message: 'token revoked',
        });
      }
      await expect(checker.verify(bob.token)).resolves.toMatchObject({ userId: 'bob' });
    }

    // A token issued in a later second (say, after the account is enabled again) works.
    now += 1_000;
    const fresh = await tokens.issue('alice');
    await expect(tokens.verify(fresh.token)).resolves.toMatchObject({ userId: 'alice' });
  });

  it('a logout holds after the cache forgot it, even where "not revoked" was cached', async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 0, 0);
    const { service } = await setUp(() => now);
    const tokens = service(cache);
    const issued = await tokens.issue('carol');
    // Checked (and cached as not revoked) before the logout.
    const claims = await tokens.verify(issued.token);
    await tokens.revoke(claims);
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ message: 'token revoked' });
    const emptied = newCache();
    try {
      await expect(service(emptied).verify(issued.token)).rejects.toMatchObject({
        message: 'token revoked',
      });
    } finally {
      await emptied.close();
    }
    // Expired revocations are removed from SQL when the next one is written.
    now += 3_601_000;
    const later = await tokens.issue('dave');
    await tokens.revoke(await tokens.verify(later.token));
    const rows = await storage.db.selectFrom('tokenRevocations').select('key').execute();
    expect(rows.map((r) => r.key)).toEqual([`t:${(await decode(later.token)).jti}`]);
  });
});

describe('TokenService signature cache', () => {
  async function service(clock: () => number, secret = 'a'.repeat(48)) {
    const made = testConfig({ storage: 'sqlite' });
    const storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    const cache = new MemoryCache();
    const tokens = new TokenService({
      secret,
      ttlSec: 60,
      revocations: new TokenRevocations({ db: storage.db, cache, clock }),
      clock,
    });
    const close = async () => {
      await cache.close();
      await storage.close();
      await made.cleanup();
    };
    return { tokens, close };
  }

  it('a token verified once is still refused once expired, and a forged twin never passes', async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const { tokens, close } = await service(() => now);
    const other = await service(() => now, 'b'.repeat(48));
    try {
      const { token } = await tokens.issue('alice');
      await expect(tokens.verify(token)).resolves.toMatchObject({ userId: 'alice' });

      // Same header and claims, another signature: a different cache key, checked afresh.
      const [head, body, signature] = token.split('.');
      const flipped = signature!.startsWith('A')
        ? `B${signature!.slice(1)}`
        : `A${signature!.slice(1)}`;
      await expect(tokens.verify(`${head}.${body}.${flipped}`)).rejects.toMatchObject({
        code: 100003,
        message: 'token invalid',
      });
      // Signed with another secret, same claims shape: refused too.
      const foreign = await other.tokens.issue('alice');
      await expect(tokens.verify(foreign.token)).rejects.toMatchObject({
        message: 'token invalid',
      });

      now += 60_000; // exactly at exp: expired, though its signature was cached
      await expect(tokens.verify(token)).rejects.toMatchObject({
        code: 100003,
        message: 'token expired',
      });
    } finally {
      await close();
      await other.close();
    }
  });

  it('a cached token is refused after its logout', async () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const { tokens, close } = await service(() => now);
    try {
      const { token } = await tokens.issue('alice');
      const claims = await tokens.verify(token);
      await tokens.revoke(claims);
      await expect(tokens.verify(token)).rejects.toMatchObject({ message: 'token revoked' });
    } finally {
      await close();
    }
  });
});

async function decode(token: string): Promise<{ jti: string }> {
  const payload = token.split('.')[1]!;
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti: string };
}
