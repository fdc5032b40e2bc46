import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeApnsKey, startFakeApns, type FakeApns } from '../../../test/support/fake-apns.js';
import { ApnsSender, parseApnsKey } from './apns-sender.js';
import type { DeviceNotification } from './push-decision.js';

const notification: DeviceNotification = {
  userId: 'u1',
  deviceId: 'iphone',
  platform: 'apns',
  title: 'Alice',
  body: 'hello',
  badge: 4,
  data: { conversationId: 'si_alice_bob', seq: '9', msgId: 'm9' },
  collapseKey: 'si_alice_bob',
  dedupKey: 'u1\u0000iphone\u0000m9',
};

/** APNs device tokens are 32 bytes, hex. */
const deviceToken = (label: string) =>
  Buffer.from(label.padEnd(32, '.')).subarray(0, 32).toString('hex');

describe('APNs against a loopback HTTP/2 APNs', () => {
  const key = fakeApnsKey();
  const topic = 'com.example.easychat';
  let clock = Date.now();
  let apns: FakeApns;
  const waits: number[] = [];
  const senders: ApnsSender[] = [];
  const sender = (overrides: { maxAttempts?: number; timeoutMs?: number } = {}) => {
    const s = new ApnsSender({
      key: parseApnsKey(key.p8),
      keyId: key.keyId,
      teamId: key.teamId,
      topic,
      endpoint: apns.url,
      ttlSec: 86_400,
      timeoutMs: overrides.timeoutMs ?? 5000,
      maxAttempts: overrides.maxAttempts ?? 3,
      retryBaseMs: 100,
      maxRetryAfterMs: 30_000,
      tls: { ca: apns.ca },
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    senders.push(s);
    return s;
  };
  const sendsTo = (token: string) => apns.received.filter((r) => r.token === token);

  beforeAll(async () => {
    apns = await startFakeApns({ key, topic, now: () => clock });
  });
  afterAll(async () => {
    await apns.close();
  });
  beforeEach(() => {
    apns.setAnswer(() => ({ status: 200 }));
    waits.length = 0;
  });
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => s.close()));
  });

  it('sends the alert with every header, signed with an ES256 provider token', async () => {
    const token = deviceToken('ok');
    expect(await sender().send(token, notification)).toBe('sent');
    const [got] = sendsTo(token);
    expect(got!.problem).toBeUndefined();
    expect(got!.headers[':method']).toBe('POST');
    expect(got!.headers[':path']).toBe(`/3/device/${token}`);
    expect(got!.headers['apns-topic']).toBe(topic);
    expect(got!.headers['apns-push-type']).toBe('alert');
    expect(got!.headers['apns-priority']).toBe('10');
    expect(got!.headers['apns-expiration']).toBe(String(Math.floor(clock / 1000) + 86_400));
    expect(got!.headers['apns-collapse-id']).toBe('si_alice_bob');
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.payload).toEqual({
      aps: {
        alert: { title: 'Alice', body: 'hello' },
        badge: 4,
        sound: 'default',
        'thread-id': 'si_alice_bob',
      },
      conversationId: 'si_alice_bob',
      seq: '9',
      msgId: 'm9',
    });
    const [header, claims] = got!.jwt
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as unknown);
    expect(header).toEqual({ alg: 'ES256', kid: key.keyId });
    expect(claims).toEqual({ iss: key.teamId, iat: Math.floor(clock / 1000) });
  });

  it('keeps a collapse id over 64 bytes under the limit', async () => {
    const token = deviceToken('long');
    const long = { ...notification, collapseKey: `sg_${'g'.repeat(90)}` };
    expect(await sender().send(token, long)).toBe('sent');
    expect(sendsTo(token)[0]!.headers['apns-collapse-id']).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('reuses one connection and one provider token, renewed after 50 minutes', async () => {
    const s = sender();
    const connectionsBefore = apns.connections();
    const tokens = Array.from({ length: 20 }, (_, i) => deviceToken(`many-${i}`));
    const outcomes = await Promise.all(tokens.map((t) => s.send(t, notification)));
    expect(outcomes.every((o) => o === 'sent')).toBe(true);
    expect(apns.connections() - connectionsBefore).toBe(1);
    expect(s.connections).toBe(1);
    const jwts = new Set(tokens.map((t) => sendsTo(t)[0]!.jwt));
    expect(jwts.size).toBe(1);

    clock += 49 * 60_000;
    await s.send(deviceToken('later-49min'), notification);
    expect(jwts.has(sendsTo(deviceToken('later-49min'))[0]!.jwt)).toBe(true);

    clock += 2 * 60_000;
    await s.send(deviceToken('later-51min'), notification);
    const renewed = sendsTo(deviceToken('later-51min'))[0]!;
    expect(renewed.problem).toBeUndefined();
    expect(jwts.has(renewed.jwt)).toBe(false);
    expect(apns.connections() - connectionsBefore).toBe(1);
  });

  it('renews the provider token once on 403 ExpiredProviderToken, and gives up on a second', async () => {
    const s = sender();
    const token = deviceToken('expired');
    await s.send(deviceToken('expired-warm'), notification);
    const firstJwt = sendsTo(deviceToken('expired-warm'))[0]!.jwt;

    // APNs decides the token is too old (a clock skew, say) before our 50 minutes.
    clock += 60_000;
    apns.expireTokensIssuedBefore(Math.floor(clock / 1000));
    expect(await s.send(token, notification)).toBe('sent');
    const [refused, accepted] = sendsTo(token);
    expect(refused!.problem).toBe('ExpiredProviderToken');
    expect(refused!.jwt).toBe(firstJwt);
    expect(accepted!.problem).toBeUndefined();
    expect(accepted!.jwt).not.toBe(firstJwt);

    apns.expireTokensIssuedBefore(Math.floor(clock / 1000) + 3600);
    await expect(s.send(deviceToken('expired-again'), notification)).rejects.toMatchObject({
      statusCode: 403,
      reason: 'ExpiredProviderToken',
      retryable: false,
    });
    expect(sendsTo(deviceToken('expired-again'))).toHaveLength(2);
    apns.expireTokensIssuedBefore(0);
  });

  it('refuses a token signed with another key (InvalidProviderToken), final at once', async () => {
    const other = fakeApnsKey(key.keyId, key.teamId);
    const s = new ApnsSender({
      key: parseApnsKey(other.p8),
      keyId: key.keyId,
      teamId: key.teamId,
      topic,
      endpoint: apns.url,
      ttlSec: 60,
      timeoutMs: 5000,
      maxAttempts: 3,
      retryBaseMs: 1,
      maxRetryAfterMs: 1000,
      tls: { ca: apns.ca },
      now: () => clock,
    });
    senders.push(s);
    const token = deviceToken('badkey');
    await expect(s.send(token, notification)).rejects.toMatchObject({
      statusCode: 403,
      reason: 'InvalidProviderToken',
    });
    expect(sendsTo(token)).toHaveLength(1);
  });

  it('reports 410 Unregistered and 400 BadDeviceToken as gone; another 400 throws', async () => {
    const s = sender();
    apns.setAnswer((token) =>
      token === deviceToken('unregistered')
        ? { status: 410, reason: 'Unregistered' }
        : { status: 400, reason: 'BadDeviceToken' },
    );
    expect(await s.send(deviceToken('unregistered'), notification)).toBe('gone');
    expect(await s.send(deviceToken('baddevice'), notification)).toBe('gone');
    // The fake itself refuses a token that is not hex, as APNs does.
    expect(await s.send('not-hex', notification)).toBe('gone');
    expect(sendsTo('not-hex')[0]!.problem).toBe('BadDeviceToken');

    apns.setAnswer(() => ({ status: 400, reason: 'DeviceTokenNotForTopic' }));
    await expect(s.send(deviceToken('othertopic'), notification)).rejects.toMatchObject({
      statusCode: 400,
      reason: 'DeviceTokenNotForTopic',
    });
    expect(sendsTo(deviceToken('othertopic'))).toHaveLength(1);
  });

  it('retries 429 after Retry-After and 5xx with backoff, bounded', async () => {
    const s = sender({ maxAttempts: 3 });
    const busy = deviceToken('busy');
    apns.setAnswer((_t, call) =>
      call === 1
        ? { status: 429, reason: 'TooManyRequests', headers: { 'retry-after': '3' } }
        : call === 2
          ? { status: 503, reason: 'ServiceUnavailable' }
          : { status: 200 },
    );
    expect(await s.send(busy, notification)).toBe('sent');
    expect(waits).toEqual([3000, 200]);
    expect(sendsTo(busy)).toHaveLength(3);

    waits.length = 0;
    const down = deviceToken('down');
    apns.setAnswer(() => ({ status: 500, reason: 'InternalServerError' }));
    await expect(s.send(down, notification)).rejects.toMatchObject({
      statusCode: 500,
      reason: 'InternalServerError',
    });
    expect(sendsTo(down)).toHaveLength(3);
    expect(waits).toEqual([100, 200]);

    const later = deviceToken('later');
    apns.setAnswer(() => ({
      status: 429,
      reason: 'TooManyRequests',
      headers: { 'retry-after': '600' },
    }));
    await expect(s.send(later, notification)).rejects.toMatchObject({ statusCode: 429 });
    expect(sendsTo(later)).toHaveLength(1);
  });

  it('opens a new connection after APNs sends GOAWAY, losing no notification', async () => {
    const s = sender();
    apns.goAwayAfter(3);
    try {
      const before = apns.connections();
      const outcomes: string[] = [];
      for (let i = 0; i < 7; i += 1)
        outcomes.push(await s.send(deviceToken(`goaway-${i}`), notification));
      expect(outcomes).toEqual(Array(7).fill('sent'));
      // 3 answers per connection: 7 sends need 3 connections.
      expect(apns.connections() - before).toBe(3);
      expect(s.connections).toBe(3);

      // Concurrent sends: the connection has answered 1 of its 3; of 5 streams in
      // flight, 2 are answered and 3 refused unprocessed at the GOAWAY, then sent again
      // (an attempt each) on the next connection.
      const concurrent = Array.from({ length: 5 }, (_, i) => deviceToken(`goaway-c${i}`));
      const all = await Promise.all(concurrent.map((t) => s.send(t, notification)));
      expect(all).toEqual(Array(5).fill('sent'));
      // None is lost: each reached the fake unrefused at least once. A stream the fake
      // answered just as the connection closed, before the client read the answer, is
      // sent again (at-least-once, as a provider call must be; the collapse id keeps the
      // phone from showing it twice), so a second copy is allowed, never a third.
      for (const token of concurrent) {
        const delivered = sendsTo(token).filter((r) => r.problem === undefined);
        expect(delivered.length).toBeGreaterThanOrEqual(1);
        expect(delivered.length).toBeLessThanOrEqual(2);
      }
      // A new connection after the GOAWAY; a retry racing the next GOAWAY may need one more.
      expect(s.connections).toBeGreaterThanOrEqual(4);
      expect(s.connections).toBeLessThanOrEqual(5);
    } finally {
      apns.goAwayAfter(Infinity);
    }
  });

  it('sends a refused stream again on a new connection, not on the one that refused it', async () => {
    // A stream refused at a GOAWAY can error before the session's goaway event: the retry
    // must not go back to that session. Here the fake refuses without a GOAWAY at all.
    const s = sender();
    const token = deviceToken('refused-once');
    apns.setAnswer((_token, call) => (call === 1 ? 'refuse' : { status: 200 }));
    expect(await s.send(token, notification)).toBe('sent');
    expect(sendsTo(token).map((r) => r.problem ?? 'sent')).toEqual(['refused', 'sent']);
    expect(s.connections).toBe(2);
    expect(new Set(sendsTo(token).map((r) => r.connection)).size).toBe(2);
  });

  it('gives up on an APNs that does not answer within timeoutMs, without retrying', async () => {
    apns.setAnswer(() => 'hang');
    const token = deviceToken('hang');
    await expect(sender({ timeoutMs: 300 }).send(token, notification)).rejects.toMatchObject({
      statusCode: 0,
      retryable: false,
      message: expect.stringContaining('no answer within 300 ms') as unknown,
    });
    expect(sendsTo(token)).toHaveLength(1);
  });

  it('retries a connection that cannot be opened, then fails', async () => {
    const s = new ApnsSender({
      key: parseApnsKey(key.p8),
      keyId: key.keyId,
      teamId: key.teamId,
      topic,
      endpoint: 'https://127.0.0.1:1',
      ttlSec: 60,
      timeoutMs: 2000,
      maxAttempts: 2,
      retryBaseMs: 1,
      maxRetryAfterMs: 1000,
      tls: { ca: apns.ca },
    });
    senders.push(s);
    await expect(s.send(deviceToken('refused'), notification)).rejects.toMatchObject({
      statusCode: 0,
      retryable: true,
    });
    expect(s.connections).toBe(2);
  });
});

describe('APNs key parsing', () => {
  it('names what is wrong with a .p8 key', () => {
    expect(() => parseApnsKey('nonsense')).toThrow(/not a PEM private key/);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expect(() =>
      parseApnsKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
    ).toThrow('not a P-256 (ES256) key');
    const key = fakeApnsKey();
    expect(parseApnsKey(key.p8).asymmetricKeyType).toBe('ec');
    expect(createPublicKey(parseApnsKey(key.p8)).equals(key.publicKey)).toBe(true);
  });
});
