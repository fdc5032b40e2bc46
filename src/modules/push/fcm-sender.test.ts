import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fakeServiceAccount,
  fcmError,
  startFakeFcm,
  type FakeFcm,
} from '../../../test/support/fake-fcm.js';
import { FcmSender, parseServiceAccount, readFcmError } from './fcm-sender.js';
import type { DeviceNotification } from './push-decision.js';
import { ProviderError } from './provider-retry.js';

const notification: DeviceNotification = {
  userId: 'u1',
  deviceId: 'pixel',
  platform: 'fcm',
  title: 'Team room',
  body: 'Alice: hello',
  badge: 3,
  data: { conversationId: 'sg_team', seq: '7', msgId: 'm1' },
  collapseKey: 'sg_team',
  dedupKey: 'u1\u0000pixel\u0000m1',
};

describe('FCM HTTP v1 against a loopback FCM', () => {
  const account = fakeServiceAccount('easy-chat-test');
  let clock = Date.now();
  let fcm: FakeFcm;
  const waits: number[] = [];
  const senders: FcmSender[] = [];
  const sender = (overrides: { maxAttempts?: number; timeoutMs?: number } = {}) =>
    track(
      new FcmSender({
        serviceAccount: parseServiceAccount(account.json),
        endpoint: fcm.url,
        tokenEndpoint: fcm.tokenEndpoint,
        timeoutMs: overrides.timeoutMs ?? 5000,
        maxAttempts: overrides.maxAttempts ?? 3,
        retryBaseMs: 100,
        maxRetryAfterMs: 30_000,
        ca: fcm.ca,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
        },
      }),
    );
  const track = (s: FcmSender) => {
    senders.push(s);
    return s;
  };
  const sendsTo = (token: string) => fcm.received.filter((r) => r.message?.token === token);

  beforeAll(async () => {
    fcm = await startFakeFcm({ serviceAccount: account, now: () => clock });
  });
  afterAll(async () => {
    await Promise.all(senders.map((s) => s.close()));
    await fcm.close();
  });
  beforeEach(() => {
    fcm.setAnswer(() => ({ status: 200 }));
    waits.length = 0;
  });

  it('buys an access token with a signed assertion and sends the whole message', async () => {
    const before = fcm.tokenRequests.length;
    expect(await sender().send('token-ok', notification)).toBe('sent');

    const [tokenRequest] = fcm.tokenRequests.slice(before);
    expect(tokenRequest!.problem).toBeUndefined();
    expect(tokenRequest!.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: account.privateKeyId });
    expect(tokenRequest!.claims).toEqual({
      iss: account.clientEmail,
      aud: fcm.tokenEndpoint,
      scope: 'https://www.googleapis.com/auth/firebase.messaging',
      iat: Math.floor(clock / 1000),
      exp: Math.floor(clock / 1000) + 3600,
    });

    const [got] = sendsTo('token-ok');
    expect(got!.problem).toBeUndefined();
    expect(got!.projectId).toBe('easy-chat-test');
    expect(got!.bearer).toMatch(/^ya29\.fake-/);
    expect(got!.message).toEqual({
      token: 'token-ok',
      notification: { title: 'Team room', body: 'Alice: hello' },
      data: { conversationId: 'sg_team', seq: '7', msgId: 'm1' },
      android: { priority: 'HIGH', collapse_key: 'sg_team', notification: { tag: 'sg_team' } },
      apns: { headers: { 'apns-collapse-id': 'sg_team' }, payload: { aps: { badge: 3 } } },
    });
  });

  it('shortens a collapse key over 64 bytes for APNs, keeping it stable', async () => {
    const long = { ...notification, collapseKey: `sg_${'x'.repeat(80)}` };
    const s = sender();
    await s.send('token-long-1', long);
    await s.send('token-long-2', long);
    const ids = [...sendsTo('token-long-1'), ...sendsTo('token-long-2')].map(
      (r) => (r.message!.apns as { headers: Record<string, string> }).headers['apns-collapse-id'],
    );
    expect(ids[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('asks for one access token for many sends, concurrent or not, until it nears expiry', async () => {
    const s = sender();
    const before = fcm.tokenRequests.length;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.send(`token-many-${i}`, notification)),
    );
    expect(outcomes.every((o) => o === 'sent')).toBe(true);
    await s.send('token-many-again', notification);
    expect(fcm.tokenRequests.length - before).toBe(1);

    // 56 minutes on, within five minutes of the hour the token lasts: a new one.
    clock += 56 * 60_000;
    await s.send('token-many-later', notification);
    expect(fcm.tokenRequests.length - before).toBe(2);
    const bearers = new Set(
      fcm.received
        .filter((r) => String(r.message?.token).startsWith('token-many'))
        .map((r) => r.bearer),
    );
    expect(bearers.size).toBe(2);
  });

  it('replaces a refused access token once on a 401, and gives up on a second', async () => {
    const s = sender();
    await s.send('token-401-warm', notification);
    const before = fcm.tokenRequests.length;
    fcm.revokeAccessTokens();
    expect(await s.send('token-401', notification)).toBe('sent');
    expect(fcm.tokenRequests.length - before).toBe(1);
    expect(fcm.received.filter((r) => r.problem === 'bearer not valid').length).toBeGreaterThan(0);

    // The token endpoint keeps handing out tokens FCM refuses: one refresh, then the error.
    fcm.setAnswer(() => ({ status: 401, body: { error: { status: 'UNAUTHENTICATED' } } }));
    await expect(s.send('token-401-again', notification)).rejects.toMatchObject({
      statusCode: 401,
      retryable: false,
    });
    expect(sendsTo('token-401-again')).toHaveLength(2);
  });

  it('reports UNREGISTERED, 404 and an invalid token as gone; a bad payload field throws', async () => {
    const s = sender();
    fcm.setAnswer((token) =>
      token === 'token-unregistered'
        ? fcmError(404, 'NOT_FOUND', 'UNREGISTERED')
        : token === 'token-404'
          ? { status: 404, body: {} }
          : token === 'token-invalid'
            ? fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT')
            : {
                status: 400,
                body: {
                  error: {
                    code: 400,
                    status: 'INVALID_ARGUMENT',
                    details: [
                      {
                        '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
                        errorCode: 'INVALID_ARGUMENT',
                      },
                      {
                        '@type': 'type.googleapis.com/google.rpc.BadRequest',
                        fieldViolations: [{ field: 'message.data[0].value' }],
                      },
                    ],
                  },
                },
              },
    );
    expect(await s.send('token-unregistered', notification)).toBe('gone');
    expect(await s.send('token-404', notification)).toBe('gone');
    expect(await s.send('token-invalid', notification)).toBe('gone');
    await expect(s.send('token-bad-payload', notification)).rejects.toMatchObject({
      statusCode: 400,
      reason: 'INVALID_ARGUMENT',
    });
    expect(sendsTo('token-bad-payload')).toHaveLength(1);
  });

  it('retries 429 after Retry-After and 5xx with backoff, bounded, never forever', async () => {
    const s = sender({ maxAttempts: 3 });
    fcm.setAnswer((_token, call) =>
      call === 1
        ? {
            ...fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'),
            headers: { 'retry-after': '2' },
          }
        : call === 2
          ? fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE')
          : { status: 200 },
    );
    expect(await s.send('token-busy', notification)).toBe('sent');
    expect(waits).toEqual([2000, 200]);
    expect(sendsTo('token-busy')).toHaveLength(3);

    waits.length = 0;
    fcm.setAnswer(() => fcmError(500, 'INTERNAL', 'INTERNAL'));
    const down = s.send('token-down', notification);
    await expect(down).rejects.toBeInstanceOf(ProviderError);
    await expect(down).rejects.toMatchObject({ statusCode: 500, reason: 'INTERNAL' });
    expect(sendsTo('token-down')).toHaveLength(3);
    expect(waits).toEqual([100, 200]);

    // A Retry-After beyond the bound is not waited for.
    fcm.setAnswer(() => ({
      ...fcmError(429, 'RESOURCE_EXHAUSTED'),
      headers: { 'retry-after': '3600' },
    }));
    await expect(s.send('token-later', notification)).rejects.toMatchObject({ statusCode: 429 });
    expect(sendsTo('token-later')).toHaveLength(1);

    // Other refusals are final at once (403 SENDER_ID_MISMATCH: the token is another project's).
    fcm.setAnswer(() => fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH'));
    await expect(s.send('token-mismatch', notification)).rejects.toMatchObject({
      statusCode: 403,
      reason: 'SENDER_ID_MISMATCH',
    });
    expect(sendsTo('token-mismatch')).toHaveLength(1);
  });

  it('gives up on an FCM that does not answer within timeoutMs, without retrying', async () => {
    fcm.setAnswer(() => 'hang');
    const s = sender({ timeoutMs: 300 });
    await expect(s.send('token-hang', notification)).rejects.toMatchObject({
      statusCode: 0,
      retryable: false,
      message: expect.stringContaining('no answer within 300 ms') as unknown,
    });
    expect(sendsTo('token-hang')).toHaveLength(1);
  });

  it('fails with the token endpoint’s reason when the assertion is refused', async () => {
    const other = fakeServiceAccount('easy-chat-test'); // a key FCM does not know
    const s = track(
      new FcmSender({
        serviceAccount: parseServiceAccount(other.json),
        endpoint: fcm.url,
        tokenEndpoint: fcm.tokenEndpoint,
        timeoutMs: 5000,
        maxAttempts: 3,
        retryBaseMs: 1,
        maxRetryAfterMs: 1000,
        ca: fcm.ca,
        now: () => clock,
      }),
    );
    await expect(s.send('token-x', notification)).rejects.toMatchObject({
      statusCode: 400,
      reason: expect.stringContaining('invalid_grant') as unknown,
    });
    expect(fcm.tokenRequests.at(-1)!.problem).toBeDefined();
  });
});

describe('service account and error parsing', () => {
  it('names what is missing or wrong in a service account', () => {
    const good = JSON.parse(fakeServiceAccount().json) as Record<string, unknown>;
    const without = (key: string) => JSON.stringify({ ...good, [key]: undefined });
    expect(() => parseServiceAccount('{')).toThrow(/not JSON/);
    expect(() => parseServiceAccount(without('project_id'))).toThrow('"project_id" is missing');
    expect(() => parseServiceAccount(without('client_email'))).toThrow('"client_email" is missing');
    expect(() => parseServiceAccount(without('private_key'))).toThrow('"private_key" is missing');
    expect(() => parseServiceAccount(JSON.stringify({ ...good, private_key: 'x' }))).toThrow(
      '"private_key" is not a PEM private key',
    );
    expect(() => parseServiceAccount(JSON.stringify({ ...good, type: 'authorized_user' }))).toThrow(
      /not "service_account"/,
    );
    expect(parseServiceAccount(JSON.stringify(good))).toMatchObject({
      projectId: 'easy-chat-test',
    });
  });

  it('reads FCM error bodies, including ones that are not JSON', () => {
    expect(readFcmError('<html>')).toEqual({ badFields: [] });
    const body = (fcmError(404, 'NOT_FOUND', 'UNREGISTERED') as { body: unknown }).body;
    expect(readFcmError(JSON.stringify(body))).toEqual({
      status: 'NOT_FOUND',
      errorCode: 'UNREGISTERED',
      badFields: [],
    });
  });
});
