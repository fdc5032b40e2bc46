import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePushService } from '../../../test/support/fake-push-service.js';
import type { DeviceNotification } from './push-decision.js';
import { retryAfterMs, topicOf, WebPushSender } from './webpush-sender.js';

const notification: DeviceNotification = {
  userId: 'u1',
  deviceId: 'browser',
  platform: 'webpush',
  title: 'Alice',
  body: 'hello',
  badge: 2,
  data: { conversationId: 'a_b', seq: '7', msgId: 'm1' },
  collapseKey: 'a_b',
  dedupKey: 'u1\u0000browser\u0000m1',
};

describe('Web Push against a loopback push service', () => {
  let service: Awaited<ReturnType<typeof startFakePushService>>;
  const vapid = { subject: 'mailto:ops@example.test', ...webpush.generateVAPIDKeys() };
  const waits: number[] = [];
  const sender = (maxAttempts = 3) =>
    new WebPushSender({
      vapid,
      ttlSec: 60,
      timeoutMs: 5000,
      maxAttempts,
      retryBaseMs: 100,
      maxRetryAfterMs: 30_000,
      agent: service.agent,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
  beforeAll(async () => {
    service = await startFakePushService();
  });
  afterAll(async () => {
    await service.close();
  });

  it('delivers an encrypted payload the subscription decrypts, signed with VAPID', async () => {
    const b = service.browser('/send/ok');
    expect(await sender().send(b.subscription, notification)).toBe('sent');
    const [got] = service.received.filter((r) => r.path === '/send/ok');
    expect(got!.error).toBeUndefined();
    expect(got!.payload).toEqual({
      title: 'Alice',
      body: 'hello',
      badge: 2,
      tag: 'a_b',
      data: { conversationId: 'a_b', seq: '7', msgId: 'm1' },
    });
    expect(got!.vapid).toMatchObject({ aud: service.url, sub: vapid.subject, k: vapid.publicKey });
    expect(got!.headers.ttl).toBe('60');
    expect(got!.headers.topic).toBe(topicOf('a_b'));
  });

  it('reports 404 and 410 as gone (the device is then deleted)', async () => {
    for (const status of [404, 410]) {
      const b = service.browser(`/send/gone-${status}`);
      service.setAnswer(() => ({ status }));
      expect(await sender().send(b.subscription, notification)).toBe('gone');
    }
    service.setAnswer(() => ({ status: 201 }));
  });

  it('retries 429 after Retry-After and 5xx with backoff, bounded', async () => {
    waits.length = 0;
    const busy = service.browser('/send/busy');
    service.setAnswer((_p, call) =>
      call === 1
        ? { status: 429, headers: { 'retry-after': '2' } }
        : call === 2
          ? { status: 503 }
          : { status: 201 },
    );
    expect(await sender().send(busy.subscription, notification)).toBe('sent');
    expect(waits).toEqual([2000, 200]);
    expect(service.received.filter((r) => r.path === '/send/busy')).toHaveLength(3);

    const down = service.browser('/send/down');
    service.setAnswer(() => ({ status: 500 }));
    await expect(sender(3).send(down.subscription, notification)).rejects.toMatchObject({
      statusCode: 500,
    });
    expect(service.received.filter((r) => r.path === '/send/down')).toHaveLength(3);

    // A Retry-After beyond the bound is not waited for.
    const later = service.browser('/send/later');
    service.setAnswer(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    await expect(sender().send(later.subscription, notification)).rejects.toMatchObject({
      statusCode: 429,
    });
    expect(service.received.filter((r) => r.path === '/send/later')).toHaveLength(1);

    // Other refusals are final at once.
    const bad = service.browser('/send/bad');
    service.setAnswer(() => ({ status: 413 }));
    await expect(sender().send(bad.subscription, notification)).rejects.toMatchObject({
      statusCode: 413,
    });
    expect(service.received.filter((r) => r.path === '/send/bad')).toHaveLength(1);
    service.setAnswer(() => ({ status: 201 }));
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': '3' }, 0)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4000)).toBe(6000);
    expect(retryAfterMs({}, 0)).toBeUndefined();
    expect(topicOf('x'.repeat(60))).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
