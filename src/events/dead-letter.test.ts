import { afterEach, describe, expect, it } from 'vitest';
import { BROKERS, busOverrides, cleanupAppBroker } from '../../test/support/brokers.js';
import { createUser } from '../../test/support/factories.js';
import { fakeProvider, sleep, webhook } from '../../test/support/fake-webhook.js';
import type { HttpAnswer } from '../../test/support/http-client.js';
import { startTestApp, type TestApp } from '../../test/support/test-app.js';
import { waitFor } from '../adapters/bus/bus.contract.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

/**
 * An SMS provider that fails twice, one webhook call per delivery and two deliveries
 * per event: the first SMS is dead-lettered in `notify.sms`, later ones go through.
 */
async function appWithFailingSms(
  kind: (typeof BROKERS)[number],
  cleanups: Array<() => Promise<void>>,
) {
  const provider = await fakeProvider([500, 500]);
  cleanups.push(provider.close);
  const bus = busOverrides(kind);
  const t: TestApp = await startTestApp({
    overrides: {
      ...bus,
      bus: { ...bus.bus, maxAttempts: 2 },
      admin: { token: ADMIN_TOKEN },
      notify: { sms: { driver: 'webhook', webhook: webhook(provider.url, 1) } },
    },
  });
  cleanups.push(async () => {
    await t.close();
    await cleanupAppBroker(t.app);
  });
  const admin = t.client.withToken(ADMIN_TOKEN);
  const sms = () =>
    t.app.events.notify.send('notify.sms', {
      phone: '13800000001',
      template: 'welcome',
      params: { name: 'Alice' },
    });
  return { t, admin, provider, sms };
}

/** Dead-lettering may lag the last attempt by a broker round trip: ask until it is there. */
async function untilListed(call: () => Promise<HttpAnswer>) {
  for (let i = 0; i < 100; i += 1) {
    const res = await call();
    if (res.body.data?.list.length > 0) return res;
    await sleep(50);
  }
  throw new Error('no dead letter appeared');
}

describe.each(BROKERS)('dead letters on %s', (kind) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('replays a dead-lettered event to its queue once the cause is fixed', async () => {
    const { admin, provider, sms } = await appWithFailingSms(kind, cleanups);
    const event = await sms();
    await waitFor(() => provider.calls.length >= 2, 'both attempts');
    // The provider has recovered (it answers 200 from now on): replay.
    const res = await untilListed(() =>
      admin.post('/v1/admin/deadLetters/replay', { queue: 'notify.sms' }),
    );
    expect(res.body.code).toBe(200);
    expect(res.body.data.list).toEqual([
      {
        id: event.id,
        type: 'notify.sms',
        key: 'notify:notify.sms',
        reason: expect.stringContaining('500') as string,
        event,
      },
    ]);
    await waitFor(() => provider.calls.length >= 3, 'the replayed delivery');
    expect(provider.calls[2]!.delivery).toBe(event.id);
    await sleep(300);
    expect(provider.calls).toHaveLength(3);
    const again = await admin.post('/v1/admin/deadLetters/replay', { queue: 'notify.sms' });
    expect(again.body.data.list).toEqual([]);
  });

  it('discards dead letters, answering them whole', async () => {
    const { admin, provider, sms } = await appWithFailingSms(kind, cleanups);
    const event = await sms();
    await waitFor(() => provider.calls.length >= 2, 'both attempts');
    const res = await untilListed(() =>
      admin.post('/v1/admin/deadLetters/discard', { queue: 'notify.sms', limit: 10 }),
    );
    expect(res.body.data.list).toHaveLength(1);
    expect(res.body.data.list[0]).toMatchObject({ id: event.id, event });
    const replay = await admin.post('/v1/admin/deadLetters/replay', { queue: 'notify.sms' });
    expect(replay.body.data.list).toEqual([]);
    await sleep(300);
    expect(provider.calls).toHaveLength(2);
  });
});

describe('dead-letter admin API refuses', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('callers without the admin credential, malformed bodies and unknown queues', async () => {
    const t = await startTestApp({ overrides: { admin: { token: ADMIN_TOKEN } } });
    cleanups.push(() => t.close());
    const admin = t.client.withToken(ADMIN_TOKEN);
    const body = { queue: 'notify.sms' };
    for (const path of ['/v1/admin/deadLetters/replay', '/v1/admin/deadLetters/discard']) {
      const none = await t.client.post(path, body);
      expect(none.status).toBe(401);
      const wrong = await t.client.withToken('not-the-admin-token').post(path, body);
      expect(wrong.status).toBe(401);
      const user = await createUser(t.client);
      const asUser = await user.client.post(path, body);
      expect([asUser.status, asUser.body.code]).toEqual([403, 500006]);

      for (const bad of [{}, { queue: '' }, { queue: '../x' }, { queue: 'notify.sms', limit: 0 }]) {
        const res = await admin.post(path, bad);
        expect([res.status, res.body.code]).toEqual([400, 100002]);
      }
      const malformed = await admin.request('POST', path, { rawBody: '{"queue":' });
      expect([malformed.status, malformed.body.code]).toEqual([400, 100002]);

      const unknown = await admin.post(path, { queue: 'no.such.queue' });
      expect([unknown.status, unknown.body.code]).toEqual([404, 500011]);
      expect(unknown.body.msg).toContain('notify.sms');
    }
  });

  it('everything when the admin API is off', async () => {
    const t = await startTestApp();
    cleanups.push(() => t.close());
    const res = await t.client
      .withToken(ADMIN_TOKEN)
      .post('/v1/admin/deadLetters/replay', { queue: 'notify.sms' });
    expect([res.status, res.body.code]).toEqual([404, 500009]);
  });
});
