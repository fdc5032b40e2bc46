/**
 * Redis (cache, rate limits, token denylist, presence) unreachable: a Redis of the
 * test's own is stopped under a running app. Every request that needs it answers
 * 503 / 100011 within a bound (never 500, never a 401 that would log the user
 * out), and the app serves again by itself once Redis is back, even empty.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';
import { createUser } from '../support/factories.js';
import { OwnRedis, redisServerAvailable } from '../support/redis-server.js';
import { befriend } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BOUND_MS = 8_000;

/** Opens /ws and reports how the server answered: an upgrade refused with a status, or a close. */
async function upgrade(
  url: string,
  token: string,
): Promise<{ status?: number; body?: any; close?: number }> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to the upgrade')), BOUND_MS);
    socket.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, body: JSON.parse(text) });
      });
    });
    socket.on('open', () => {
      socket.send(JSON.stringify({ frameType: 1 }));
    });
    socket.on('message', () => {
      clearTimeout(timer);
      socket.close();
      resolve({ status: 101 });
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve({ close: code });
    });
    socket.on('error', () => undefined);
  });
}

describe.runIf(redisServerAvailable)('Redis unreachable', () => {
  let redis: OwnRedis | undefined;
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    await redis?.stop();
    t = redis = undefined;
  });

  it('answers 503 / 100011 while Redis is down and serves again when it returns empty', async () => {
    redis = await OwnRedis.start();
    t = await startTestApp({
      overrides: {
        cache: { driver: 'redis', redis: { url: redis.url } },
        cluster: { presence: 'redis' },
      },
    });
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    expect((await upgrade(t.url, alice.token)).status).toBe(101);

    await redis.down();
    const probes = {
      // The login limiter counts attempts in the cache.
      login: () =>
        t!.client.post(
          '/v1/user/login',
          { phone: alice.phone, password: alice.password },
          { timeoutMs: BOUND_MS },
        ),
      // Every authenticated request checks the denylist.
      profile: () => alice.client.get('/v1/user/user', { timeoutMs: BOUND_MS }),
      logout: () => bob.client.post('/v1/user/logout', {}, { timeoutMs: BOUND_MS }),
      // Presence lives in Redis too.
      onlineFriends: () => alice.client.get('/v1/social/friends/online', { timeoutMs: BOUND_MS }),
      readiness: () => t!.client.get('/readyz', { timeoutMs: BOUND_MS }),
    };
    for (let round = 0; round < 3; round += 1) {
      for (const [name, probe] of Object.entries(probes)) {
        const res = await probe();
        expect({ name, status: res.status, code: res.body.code }).toEqual({
          name,
          status: 503,
          code: 100011,
        });
      }
    }
    // A socket cannot be authenticated either: the upgrade is refused with the same
    // envelope (the client retries), never closed 4001 (which means "log in again").
    const refused = await upgrade(t.url, alice.token);
    expect(refused).toMatchObject({ status: 503, body: { code: 100011, data: null } });

    await redis.up();
    await until(
      async () => (await alice.client.get('/v1/user/user', { timeoutMs: BOUND_MS })).status === 200,
      'serving after Redis returned',
    );
    const login = await t.client.post('/v1/user/login', {
      phone: alice.phone,
      password: alice.password,
    });
    expect(login.status).toBe(200);
    expect((await alice.client.get('/v1/social/friends/online')).status).toBe(200);
    expect((await upgrade(t.url, alice.token)).status).toBe(101);
  });
});
