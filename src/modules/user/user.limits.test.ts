import { describe, expect, it } from 'vitest';
import { CACHES } from '../../../test/support/backends.js';
import { createUser, uniquePhone } from '../../../test/support/factories.js';
import { suiteApp } from '../../../test/support/suite-app.js';

/** A client address as a proxy on 127.0.0.1 reports it. */
const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
const randomAddress = () =>
  `198.18.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;

describe.each(CACHES)('per-address limits on %s cache', (cache) => {
  const { t } = suiteApp({
    cache,
    overrides: {
      // The test client plays the proxy: its X-Forwarded-For is believed.
      server: { trustProxy: ['127.0.0.1'] },
      rateLimit: {
        login: {
          perPhoneAndIp: { limit: 10, windowSec: 60 },
          perPhone: { limit: 30, windowSec: 3600 },
          perIp: { limit: 60, windowSec: 60 },
        },
        register: { perIp: { limit: 20, windowSec: 3600 } },
      },
    },
  });

  const login = (phone: string, password: string, address: string) =>
    t.client.post('/v1/user/login', { phone, password }, from(address));

  it('a stranger guessing from one address does not lock the owner out', async () => {
    const owner = await createUser(t.client);
    const guesses = [];
    for (let i = 0; i < 11; i += 1) {
      guesses.push((await login(owner.phone, `guess-${i}`, '198.51.100.1')).status);
    }
    expect(guesses).toEqual([...Array<number>(10).fill(401), 429]);
    // The right password from that address is refused too while the window lasts.
    expect((await login(owner.phone, owner.password, '198.51.100.1')).status).toBe(429);
    // The owner, at home, logs in.
    expect((await login(owner.phone, owner.password, '203.0.113.9')).status).toBe(200);

    // Guessing spread over many addresses meets the looser per-phone window (30 per
    // hour): 13 attempts so far, so 17 more are answered and then the phone is locked.
    const spread = [];
    for (let i = 0; i < 20; i += 1) {
      spread.push((await login(owner.phone, `spread-${i}`, randomAddress())).status);
    }
    expect(spread).toEqual([...Array<number>(17).fill(401), 429, 429, 429]);
    const locked = await login(owner.phone, owner.password, '203.0.113.9');
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe(200004);
  });

  it('limits registrations per address: 200 from one address, 20 accepted', async () => {
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          t.client.post(
            '/v1/user/register',
            { phone: uniquePhone(), password: 'secret-pass-1', nickname: 'flood' },
            from('192.0.2.77'),
          ),
        ),
      );
      statuses.push(...answers.map((a) => a.status));
      for (const answer of answers.filter((a) => a.status === 429)) {
        expect(answer.body).toEqual({
          code: 200007,
          msg: 'too many registrations from this address, try later',
          data: null,
        });
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(3000);
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(180);
    // Another address registers as usual.
    const other = await t.client.post(
      '/v1/user/register',
      { phone: uniquePhone(), password: 'secret-pass-1', nickname: 'other' },
      from('192.0.2.78'),
    );
    expect(other.status).toBe(200);
  });

  it('believes X-Forwarded-For only up to the first address that is not a listed proxy', async () => {
    // A client sends its own header; the proxy (127.0.0.1) appends the real address. The
    // forged entries sit left of it and are never read: 75 logins, 60 answered.
    const statuses = [];
    for (let i = 0; i < 75; i += 1) {
      const res = await t.client.post(
        '/v1/user/login',
        { phone: uniquePhone(), password: 'whatever-1' },
        from(`${randomAddress()}, 203.0.113.50`),
      );
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });
});

describe('with no trusted proxy (the default)', () => {
  const { t } = suiteApp();

  it('ignores X-Forwarded-For: 75 logins with a rotating header, 15 refused', async () => {
    expect(t.config.server.trustProxy).toEqual([]);
    const statuses = [];
    for (let i = 0; i < 75; i += 1) {
      const res = await t.client.post(
        '/v1/user/login',
        { phone: uniquePhone(), password: 'whatever-1' },
        from(randomAddress()),
      );
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });
});
