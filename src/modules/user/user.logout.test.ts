import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { CACHES, STORAGES, TEST_REDIS_URL } from '../../../test/support/backends.js';
import { createUser } from '../../../test/support/factories.js';
import { HttpClient } from '../../../test/support/http-client.js';
import { testConfig } from '../../../test/support/test-app.js';
import { createApp, type App } from '../../app/create-app.js';
import type { Config } from '../../config/config.schema.js';

const combinations = STORAGES.flatMap((storage) => CACHES.map((cache) => [storage, cache]));

/** Deletes every key of this app's prefix, as a Redis restart without persistence would. */
async function emptyRedis(config: Config): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL!);
  try {
    let deleted = 0;
    for await (const keys of redis.scanStream({ match: `${config.cache.redis.keyPrefix}*` })) {
      const list = keys as string[];
      if (list.length > 0) deleted += await redis.del(...list);
    }
    return deleted;
  } finally {
    redis.quit().catch(() => undefined);
  }
}

describe.each(combinations)('logout on %s with %s cache', (storage, cache) => {
  it('a logged-out token stays refused after the cache is emptied or the process restarts', async () => {
    const { config, cleanup } = testConfig({ storage: storage as never, cache: cache as never });
    let app: App | undefined;
    const start = async () => {
      app = await createApp(config);
      return new HttpClient((await app.start()).url);
    };
    try {
      let client = await start();
      const user = await createUser(client);
      const other = await client.post('/v1/user/login', {
        phone: user.phone,
        password: user.password,
      });
      const otherToken = other.body.data.token as string;
      expect((await user.client.post('/v1/user/logout')).status).toBe(200);
      expect((await user.client.get('/v1/user/user')).body.msg).toBe('token revoked');

      if (cache === 'redis') {
        // The cache forgets everything while the process keeps running.
        expect(await emptyRedis(config)).toBeGreaterThan(0);
      } else {
        // The in-memory cache is emptied by a restart.
        await app!.stop();
        client = await start();
      }
      const refused = await client.withToken(user.token).get('/v1/user/user');
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ code: 100003, msg: 'token revoked', data: null });
      // The device that did not log out is still logged in.
      expect((await client.withToken(otherToken).get('/v1/user/user')).status).toBe(200);
    } finally {
      await app?.stop();
      await cleanup();
    }
  });
});
