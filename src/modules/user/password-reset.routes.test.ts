/**
 * Password reset by code through the real stack: the code goes out as `notify.sms`
 * through the worker's SMS sender to a provider on loopback (the webhook driver),
 * and comes back through `POST /v1/user/password/reset`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { fakeProvider, sleep, webhook } from '../../../test/support/fake-webhook.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { until } from '../../../test/support/wait.js';
import { SuiteSockets } from '../../../test/support/ws-client.js';

type Provider = Awaited<ReturnType<typeof fakeProvider>>;

describe.each(STORAGES)('password reset by code on %s', (storage) => {
  let t: TestApp;
  let provider: Provider;
  let now = Date.now();
  const sockets = new SuiteSockets(() => t);
  beforeAll(async () => {
    provider = await fakeProvider([]);
    t = await startTestApp({
      storage,
      // A clock the test moves, so a code can expire without waiting ten minutes.
      clock: () => now,
      overrides: {
        notify: { sms: { driver: 'webhook', webhook: webhook(provider.url) } },
        user: { passwordReset: { codeTtlSec: 600, maxAttempts: 3 } },
        rateLimit: {
          passwordReset: {
            perPhone: { limit: 4, windowSec: 3600 },
            perIp: { limit: 60, windowSec: 3600 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await sockets.closeAll();
    await t.close();
    await provider.close();
  });

  const askCode = (phone: string) => t.client.post('/v1/user/password/resetCode', { phone });
  const reset = (phone: string, code: string, newPassword = 'brand-new-secret-1') =>
    t.client.post('/v1/user/password/reset', { phone, code, newPassword });
  const expectError = (
    res: { status: number; body: { code: number } },
    status: number,
    code: number,
  ) => {
    expect(res.body.code, JSON.stringify(res.body)).toBe(code);
    expect(res.status).toBe(status);
  };
  /** The code of the n-th SMS sent to this phone (waits for it). */
  async function smsCode(phone: string, n: number): Promise<string> {
    const toPhone = () => provider.calls.filter((c) => c.body.phone === phone);
    await until(() => toPhone().length >= n, `SMS ${n} to ${phone}`);
    const call = toPhone()[n - 1]!;
    expect(call.signatureOk).toBe(true);
    expect(call.body).toMatchObject({
      channel: 'sms',
      phone,
      template: 'password_reset',
      params: { code: expect.stringMatching(/^[0-9]{6}$/), minutes: '10' },
    });
    return (call.body.params as { code: string }).code;
  }
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  it('sends a code by SMS; the reset sets the password, ends every session and works once', async () => {
    const alice = await createUser(t.client);
    const socket = await sockets.connect(alice);

    const asked = await askCode(alice.phone);
    expect(asked.status).toBe(200);
    expect(asked.body).toEqual({ code: 200, msg: 'ok', data: {} });
    const code = await smsCode(alice.phone, 1);
    // Stored as an HMAC, never in clear.
    const row = await t.app.storage.db
      .selectFrom('passwordResetCodes')
      .selectAll()
      .where('userId', '=', alice.id)
      .executeTakeFirstOrThrow();
    expect(row.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.codeHash).not.toContain(code);

    expectError(await reset(alice.phone, wrong(code)), 400, 200013);
    const done = await reset(alice.phone, code);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.data).toEqual({ token: expect.any(String), expire: expect.any(Number) });

    // Every earlier session ended: its token is refused and its socket closed.
    expect(await socket.closed).toEqual({ code: 4001, reason: 'password changed' });
    const refused = await t.client.get('/v1/user/user', { token: alice.token });
    expect(refused.status).toBe(401);
    expect((await t.client.get('/v1/user/user', { token: done.body.data.token })).status).toBe(200);
    const login = (password: string) =>
      t.client.post('/v1/user/login', { phone: alice.phone, password });
    expect((await login(alice.password)).status).toBe(401);
    expect((await login('brand-new-secret-1')).status).toBe(200);

    // Single use: the same code again is refused, the password stays.
    expectError(await reset(alice.phone, code, 'another-secret-22'), 400, 200013);
    expect((await login('brand-new-secret-1')).status).toBe(200);
    const events = (await publishedEvents(t.app, 'user-password_changed')).filter(
      (e) => e.partitionKey === alice.id,
    );
    expect(events.map((e) => e.payload.how)).toEqual(['reset']);
  });

  it('answers an unknown phone exactly as a known one, and sends it nothing', async () => {
    const known = await createUser(t.client);
    const unknownPhone = '+19995550123';
    const [a, b] = [await askCode(known.phone), await askCode(unknownPhone)];
    expect(b.status).toBe(a.status);
    expect(b.body).toEqual(a.body);
    await smsCode(known.phone, 1);
    await sleep(300);
    expect(provider.calls.filter((c) => c.body.phone === unknownPhone)).toEqual([]);
    // A reset for a phone without an account is the same refusal as a wrong code.
    expectError(await reset(unknownPhone, '123456'), 400, 200013);
  });

  it('a code expires, dies after its wrong guesses, and a new request replaces it', async () => {
    const bob: RegisteredUser = await createUser(t.client);
    await askCode(bob.phone);
    const expiring = await smsCode(bob.phone, 1);
    now += 601_000;
    expectError(await reset(bob.phone, expiring), 400, 200013);

    await askCode(bob.phone);
    const guessed = await smsCode(bob.phone, 2);
    for (let i = 0; i < 3; i += 1) expectError(await reset(bob.phone, wrong(guessed)), 400, 200013);
    // Three wrong guesses used it up: even the right code is refused now.
    expectError(await reset(bob.phone, guessed), 400, 200013);

    await askCode(bob.phone);
    const replaced = await smsCode(bob.phone, 3);
    await askCode(bob.phone);
    const current = await smsCode(bob.phone, 4);
    if (replaced !== current) expectError(await reset(bob.phone, replaced), 400, 200013);
    expect((await reset(bob.phone, current)).status).toBe(200);

    // The fifth request for this phone within the hour is refused, for anyone asking.
    const limited = await askCode(bob.phone);
    expectError(limited, 429, 200014);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    await sleep(200);
    expect(provider.calls.filter((c) => c.body.phone === bob.phone)).toHaveLength(4);
  });

  it('refuses malformed and unknown fields (closed bodies)', async () => {
    const user = await createUser(t.client);
    for (const body of [{}, { phone: 'abc' }, { phone: user.phone, userId: user.id }]) {
      expectError(await t.client.post('/v1/user/password/resetCode', body), 400, 100002);
    }
    for (const body of [
      { phone: user.phone, code: '12345', newPassword: 'long-enough-1' },
      { phone: user.phone, code: 'abcdef', newPassword: 'long-enough-1' },
      { phone: user.phone, code: '123456', newPassword: 'short' },
      { phone: user.phone, code: '123456' },
      { phone: user.phone, code: '123456', newPassword: 'long-enough-1', userId: user.id },
    ]) {
      expectError(await t.client.post('/v1/user/password/reset', body), 400, 100002);
    }
  });
});

describe('password reset rate limit per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      overrides: {
        rateLimit: {
          passwordReset: {
            perPhone: { limit: 100, windowSec: 3600 },
            perIp: { limit: 2, windowSec: 3600 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a third request from one address whatever the phone, and a third reset', async () => {
    const ask = (phone: string) => t.client.post('/v1/user/password/resetCode', { phone });
    expect((await ask('+10000000001')).status).toBe(200);
    expect((await ask('+10000000002')).status).toBe(200);
    const third = await ask('+10000000003');
    expect(third.body.code).toBe(200014);
    expect(third.status).toBe(429);
    // Resets are counted apart from requests, in a window of the same size.
    const guess = () =>
      t.client.post('/v1/user/password/reset', {
        phone: '+10000000001',
        code: '000000',
        newPassword: 'long-enough-1',
      });
    expect((await guess()).body.code).toBe(200013);
    expect((await guess()).body.code).toBe(200013);
    const limited = await guess();
    expect(limited.body.code).toBe(200014);
    expect(limited.status).toBe(429);
  });
});
