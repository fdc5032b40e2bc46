import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { suiteApp } from '../../../test/support/suite-app.js';

/** A subscription as a browser makes one: a fresh P-256 key and auth secret. */
function browserSubscription(endpoint = 'https://push.example.test/send/abc') {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint,
    expirationTime: null,
    keys: {
      p256dh: ecdh.getPublicKey().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    },
  };
}

describe.each(STORAGES)('push devices on %s', (storage) => {
  const { t } = suiteApp({ storage, overrides: { push: { maxDevicesPerUser: 3 } } });

  const register = (who: RegisteredUser, body: Record<string, unknown>, token?: string) =>
    who.client.request('POST', '/v1/push/devices', { body, ...(token ? { token } : {}) });
  const list = async (who: RegisteredUser, token?: string) => {
    const res = await who.client.request('GET', '/v1/push/devices', token ? { token } : {});
    expect(res.status).toBe(200);
    return res.body.data.list as Array<Record<string, unknown>>;
  };
  const rows = (userId: string) =>
    t.app.storage.db
      .selectFrom('pushDevices')
      .selectAll()
      .where('userId', '=', userId)
      .orderBy('deviceId')
      .execute();
  const login = async (who: RegisteredUser) =>
    (await t.client.post('/v1/user/login', { phone: who.phone, password: who.password })).body.data
      .token as string;

  it('registers each platform, lists without tokens, replaces on re-registration, removes', async () => {
    const alice = await createUser(t.client);
    const sub = browserSubscription();
    expect(
      (await register(alice, { deviceId: 'phone-1', platform: 'fcm', token: 'fcm:tok_1' })).body,
    ).toEqual({
      code: 200,
      msg: 'ok',
      data: {},
    });
    expect(
      (
        await register(alice, {
          deviceId: 'ipad',
          platform: 'apns',
          token: 'ab'.repeat(32),
          locale: 'en-GB',
        })
      ).status,
    ).toBe(200);
    // PushSubscription.toJSON() as it comes, expirationTime null included.
    expect(
      (await register(alice, { deviceId: 'browser', platform: 'webpush', subscription: sub }))
        .status,
    ).toBe(200);

    const listed = await list(alice);
    expect(listed).toEqual([
      {
        deviceId: 'phone-1',
        platform: 'fcm',
        locale: null,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      },
      {
        deviceId: 'ipad',
        platform: 'apns',
        locale: 'en-GB',
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      },
      {
        deviceId: 'browser',
        platform: 'webpush',
        locale: null,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      },
    ]);
    const stored = await rows(alice.id);
    expect(stored.find((r) => r.deviceId === 'browser')).toMatchObject({
      token: sub.endpoint,
      p256dh: sub.keys.p256dh,
      auth: sub.keys.auth,
    });

    // The same deviceId again replaces its row (here: the phone moved to another token).
    await new Promise((r) => setTimeout(r, 5));
    expect(
      (
        await register(alice, {
          deviceId: 'phone-1',
          platform: 'fcm',
          token: 'fcm:tok_2',
          locale: 'de',
        })
      ).status,
    ).toBe(200);
    const phone = (await rows(alice.id)).filter((r) => r.deviceId === 'phone-1');
    expect(phone).toHaveLength(1);
    expect(phone[0]).toMatchObject({ token: 'fcm:tok_2', locale: 'de' });
    const again = (await list(alice)).find((d) => d.deviceId === 'phone-1')!;
    expect(again.createdAt).toBe(listed[0]!.createdAt);
    expect(again.updatedAt as number).toBeGreaterThan(listed[0]!.updatedAt as number);

    const removed = await alice.client.delete('/v1/push/devices', { query: { deviceId: 'ipad' } });
    expect(removed.body).toEqual({ code: 200, msg: 'ok', data: {} });
    const twice = await alice.client.delete('/v1/push/devices', { query: { deviceId: 'ipad' } });
    expect([twice.status, twice.body.code]).toEqual([404, 700001]);
    expect((await list(alice)).map((d) => d.deviceId)).toEqual(['phone-1', 'browser']);
  });

  it('refuses callers without a valid token (401 / 100003)', async () => {
    const body = { deviceId: 'd', platform: 'fcm', token: 't' };
    for (const token of [null, 'not-a-jwt']) {
      for (const [method, options] of [
        ['POST', { body }],
        ['GET', {}],
        ['DELETE', { query: { deviceId: 'd' } }],
      ] as const) {
        const res = await t.client.request(method, '/v1/push/devices', { ...options, token });
        expect([res.status, res.body.code], `${method} ${token}`).toEqual([401, 100003]);
      }
      const key = await t.client.request('GET', '/v1/push/vapidKey', { token });
      expect([key.status, key.body.code]).toEqual([401, 100003]);
    }
  });

  it('answers 404 / 700005 for the VAPID key while Web Push is not configured', async () => {
    const alice = await createUser(t.client);
    const res = await alice.client.get('/v1/push/vapidKey');
    expect([res.status, res.body.code]).toEqual([404, 700005]);
  });

  it("never shows or removes another user's device", async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await register(alice, { deviceId: 'shared-id', platform: 'fcm', token: 'alice-token' });
    expect(await list(bob)).toEqual([]);
    const res = await bob.client.delete('/v1/push/devices', { query: { deviceId: 'shared-id' } });
    expect([res.status, res.body.code]).toEqual([404, 700001]);
    // Bob registering the same device id makes his own row; alice's stays as it was.
    await register(bob, { deviceId: 'shared-id', platform: 'apns', token: 'bob-token' });
    expect((await rows(alice.id)).map((r) => [r.deviceId, r.token])).toEqual([
      ['shared-id', 'alice-token'],
    ]);
    expect((await rows(bob.id)).map((r) => [r.deviceId, r.token])).toEqual([
      ['shared-id', 'bob-token'],
    ]);
  });

  it('refuses malformed registrations with their codes, writing nothing', async () => {
    const alice = await createUser(t.client);
    const sub = browserSubscription();
    const cases: Array<[Record<string, unknown>, number, RegExp?]> = [
      [{ deviceId: 'd', platform: 'fcm' }, 700002],
      [{ deviceId: 'd', platform: 'apns', subscription: sub }, 700002],
      [{ deviceId: 'd', platform: 'fcm', token: 't', subscription: sub }, 700002],
      [{ deviceId: 'd', platform: 'webpush' }, 700003],
      [{ deviceId: 'd', platform: 'webpush', token: 't' }, 700003],
      [{ deviceId: 'd', platform: 'webpush', token: 't', subscription: sub }, 700003],
      [{ deviceId: 'd', platform: 'hms', token: 't' }, 100002],
      [{ platform: 'fcm', token: 't' }, 100002],
      [{ deviceId: '', platform: 'fcm', token: 't' }, 100002],
      [{ deviceId: 'a b', platform: 'fcm', token: 't' }, 100002],
      [{ deviceId: 'd'.repeat(129), platform: 'fcm', token: 't' }, 100002],
      [{ deviceId: 'd', platform: 'fcm', token: 'has space' }, 100002],
      [{ deviceId: 'd', platform: 'fcm', token: 't', locale: 'not a locale' }, 100002],
      [
        { deviceId: 'd', platform: 'fcm', token: 't', userId: 'someone' },
        100002,
        /unknown key "userId"/,
      ],
      [
        {
          deviceId: 'd',
          platform: 'webpush',
          subscription: { ...sub, endpoint: 'http://push.example.test/x' },
        },
        100002,
      ],
      [
        {
          deviceId: 'd',
          platform: 'webpush',
          subscription: { ...sub, keys: { ...sub.keys, p256dh: 'short' } },
        },
        100002,
      ],
      [
        {
          deviceId: 'd',
          platform: 'webpush',
          subscription: { ...sub, keys: { auth: sub.keys.auth } },
        },
        100002,
      ],
      [
        {
          deviceId: 'd',
          platform: 'webpush',
          subscription: { ...sub, keys: { ...sub.keys, extra: 'x' } },
        },
        100002,
        /unknown key "extra"/,
      ],
      [
        { deviceId: 'd', platform: 'webpush', subscription: { ...sub, userVisibleOnly: true } },
        100002,
        /unknown key "userVisibleOnly"/,
      ],
    ];
    for (const [body, code, msg] of cases) {
      const res = await register(alice, body);
      expect(res.body.code, JSON.stringify(body)).toBe(code);
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (msg) expect(res.body.msg).toMatch(msg);
    }
    const raw = await alice.client.request('POST', '/v1/push/devices', { rawBody: '{"deviceId":' });
    expect([raw.status, raw.body.code]).toEqual([400, 100002]);
    for (const query of [{}, { deviceId: '' }, { deviceId: 'd', other: 'x' }]) {
      const res = await alice.client.request('DELETE', '/v1/push/devices', { query });
      expect([res.status, res.body.code], JSON.stringify(query)).toEqual([400, 100002]);
    }
    expect(await rows(alice.id)).toEqual([]);
  });

  it('ends a registration at logout of the token that made it, and at a password change', async () => {
    const alice = await createUser(t.client, { password: 'first-pass-1' });
    const [phoneToken, laptopToken] = [await login(alice), await login(alice)];
    await register(alice, { deviceId: 'phone', platform: 'fcm', token: 'p' }, phoneToken);
    await register(
      alice,
      { deviceId: 'laptop', platform: 'webpush', subscription: browserSubscription() },
      laptopToken,
    );
    expect((await list(alice, laptopToken)).map((d) => d.deviceId)).toEqual(['phone', 'laptop']);

    const out = await t.client.request('POST', '/v1/user/logout', { token: phoneToken });
    expect(out.status).toBe(200);
    expect((await list(alice, laptopToken)).map((d) => d.deviceId)).toEqual(['laptop']);
    // Seen as ended, the row is gone too.
    expect((await rows(alice.id)).map((r) => r.deviceId)).toEqual(['laptop']);
    expect(await t.app.services.pushDevices.liveDevicesOf([alice.id])).toHaveLength(1);

    // Logging in again on the phone and registering brings it back.
    const phoneAgain = await login(alice);
    await register(alice, { deviceId: 'phone', platform: 'fcm', token: 'p' }, phoneAgain);
    expect((await list(alice, phoneAgain)).map((d) => d.deviceId)).toEqual(['laptop', 'phone']);

    // A password change ends every other session, and so their registrations.
    const changed = await t.client.request('PUT', '/v1/user/password', {
      token: laptopToken,
      body: { oldPassword: 'first-pass-1', newPassword: 'second-pass-2' },
    });
    expect(changed.status).toBe(200);
    const fresh = changed.body.data.token as string;
    expect(await list(alice, fresh)).toEqual([]);
    expect(await t.app.services.pushDevices.liveDevicesOf([alice.id])).toEqual([]);
  });

  it('caps the devices of one user (409 / 700004); re-registering one is no new device', async () => {
    const alice = await createUser(t.client);
    for (const id of ['a', 'b', 'c']) {
      expect((await register(alice, { deviceId: id, platform: 'fcm', token: id })).status).toBe(
        200,
      );
    }
    const over = await register(alice, { deviceId: 'd', platform: 'fcm', token: 'd' });
    expect([over.status, over.body.code]).toEqual([409, 700004]);
    expect((await register(alice, { deviceId: 'a', platform: 'apns', token: 'a2' })).status).toBe(
      200,
    );
    expect((await list(alice)).map((d) => [d.deviceId, d.platform])).toEqual([
      ['a', 'apns'],
      ['b', 'fcm'],
      ['c', 'fcm'],
    ]);
  });
});
