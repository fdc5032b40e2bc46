import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHES, STORAGES } from '../../../test/support/backends.js';
import { createUser, uniquePhone } from '../../../test/support/factories.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';

describe.each(STORAGES)('tokens on %s', (storage) => {
  let t: TestApp;
  let now = Date.now();
  beforeAll(async () => {
    t = await startTestApp({ storage, clock: () => now, overrides: { auth: { tokenTtlSec: 60 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  const expectUnauthorized = (res: { status: number; body: { code: number; data: unknown } }) => {
    expect(res.status).toBe(401);
    expect(res.body.code).toBe(100003);
    expect(res.body.data).toBeNull();
  };

  it('refuses a missing token', async () => {
    expectUnauthorized(await t.client.get('/v1/user/user'));
    expectUnauthorized(await t.client.put('/v1/user/user', { nickname: 'x' }));
    expectUnauthorized(await t.client.post('/v1/user/logout'));
  });

  it('refuses malformed authorization headers and tokens', async () => {
    const user = await createUser(t.client);
    for (const authorization of [
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer not-a-jwt',
      `Bearer ${user.token}x`,
      `Bearer ${user.token.split('.').slice(0, 2).join('.')}.`,
      user.token,
    ]) {
      const res = await t.client.get('/v1/user/user', { token: null, headers: { authorization } });
      expectUnauthorized(res);
    }
  });

  it('refuses tokens signed with another secret, another algorithm or no algorithm', async () => {
    const user = await createUser(t.client);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('easy-chat')
      .setSubject(user.id)
      .setJti('forged')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('some-other-secret'));
    expectUnauthorized(await t.client.get('/v1/user/user', { token: forged }));
    const [, payload] = user.token.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expectUnauthorized(await t.client.get('/v1/user/user', { token: none }));
  });

  it('refuses an expired token and accepts a fresh one', async () => {
    const user = await createUser(t.client);
    expect((await user.client.get('/v1/user/user')).status).toBe(200);
    now += 61_000;
    const expired = await user.client.get('/v1/user/user');
    expectUnauthorized(expired);
    expect(expired.body.msg).toBe('token expired');
    const again = await t.client.post('/v1/user/login', {
      phone: user.phone,
      password: user.password,
    });
    expect((await t.client.get('/v1/user/user', { token: again.body.data.token })).status).toBe(
      200,
    );
  });

  it('refuses a revoked token until it expires', async () => {
    const user = await createUser(t.client);
    await user.client.post('/v1/user/logout');
    const revoked = await user.client.get('/v1/user/user');
    expectUnauthorized(revoked);
    expect(revoked.body.msg).toBe('token revoked');
    // A second logout with the same token is refused too: it no longer authenticates.
    expectUnauthorized(await user.client.post('/v1/user/logout'));
  });
});

describe.each(CACHES)('login rate limit on %s cache', (cache) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      cache,
      overrides: {
        rateLimit: {
          login: {
            perPhoneAndIp: { limit: 3, windowSec: 60 },
            perPhone: { limit: 100, windowSec: 60 },
            perIp: { limit: 8, windowSec: 60 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 / 200004 with Retry-After once a phone used its attempts from an address', async () => {
    const user = await createUser(t.client);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push(
        (await t.client.post('/v1/user/login', { phone: user.phone, password: 'wrong-password' }))
          .status,
      );
    }
    expect(statuses).toEqual([401, 401, 401]);
    // Even the right password is refused while the window lasts.
    const limited = await t.client.post('/v1/user/login', {
      phone: user.phone,
      password: user.password,
    });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      code: 200004,
      msg: 'too many login attempts, try later',
      data: null,
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('limits one client address across many phones', async () => {
    // 4 attempts were spent by the previous test from this same address.
    const results = [];
    for (let i = 0; i < 6; i += 1) {
      results.push(
        (await t.client.post('/v1/user/login', { phone: uniquePhone(), password: 'whatever-1' }))
          .status,
      );
    }
    expect(results).toEqual([401, 401, 401, 401, 429, 429]);
  });
});

describe('secrets stay out of logs', () => {
  it('never logs passwords, hashes or tokens', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const t = await startTestApp({ overrides: { log: { level: 'trace' } }, logDestination: sink });
    try {
      const password = 'very-secret-password-123';
      const user = await createUser(t.client, { password });
      await t.client.post('/v1/user/login', {
        phone: user.phone,
        password: 'wrong-secret-password',
      });
      await t.client.post('/v1/user/register', { phone: user.phone, password, nickname: 'dup' });
      await user.client.get('/v1/user/user');
      await t.client.get(`/v1/user/user?token=${user.token}`);
      const log = lines.join('');
      expect(log).toContain('request completed');
      expect(log).not.toContain(password);
      expect(log).not.toContain('wrong-secret-password');
      expect(log).not.toContain('$argon2');
      expect(log).not.toContain(user.token);
    } finally {
      await t.close();
    }
  });
});
