import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES, TEST_REDIS_URL, type StorageKind } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { fakeProvider, webhook } from '../../../test/support/fake-webhook.js';
import {
  startFakePushService,
  type FakeBrowser,
  type ReceivedPush,
} from '../../../test/support/fake-push-service.js';
import { fetchMetrics } from '../../../test/support/metrics.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { until } from '../../../test/support/wait.js';
import { SuiteSockets, type WsClient } from '../../../test/support/ws-client.js';
import { topicOf } from './webpush-sender.js';

const variants: Array<{ storage: StorageKind; presence: 'memory' | 'redis' }> = [
  ...STORAGES.filter((s) => s !== 'mysql').map((storage) => ({
    storage,
    presence: 'memory' as const,
  })),
  ...(TEST_REDIS_URL ? [{ storage: 'sqlite' as const, presence: 'redis' as const }] : []),
];

describe.each(variants)(
  'push delivery on $storage, $presence presence',
  ({ storage, presence }) => {
    let t: TestApp;
    let service: Awaited<ReturnType<typeof startFakePushService>>;
    let hook: Awaited<ReturnType<typeof fakeProvider>>;
    let dir: string;
    const sockets = new SuiteSockets(() => t);
    const vapid = { subject: 'mailto:ops@example.test', ...webpush.generateVAPIDKeys() };
    let endpoints = 0;

    beforeAll(async () => {
      service = await startFakePushService();
      hook = await fakeProvider([]);
      dir = mkdtempSync(join(tmpdir(), 'push-ca-'));
      writeFileSync(join(dir, 'ca.pem'), service.cert);
      t = await startTestApp({
        storage,
        ...(presence === 'redis' ? { cache: 'redis' as const } : {}),
        overrides: {
          ...(presence === 'redis' ? { cluster: { presence: 'redis' as const } } : {}),
          push: {
            // In order, so a later message's webhook call says the earlier one was handled.
            delivery: { concurrency: 1 },
            webpush: {
              ...vapid,
              caFile: join(dir, 'ca.pem'),
              maxAttempts: 2,
              retryBaseMs: 10,
            },
          },
          notify: { push: { driver: 'webhook', webhook: webhook(hook.url), collapseWindowMs: 0 } },
        },
      });
    });
    afterAll(async () => {
      await sockets.closeAll();
      await t?.close();
      await service?.close();
      await hook?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const connect = (token: string) => sockets.connect(token);
    const login = async (who: RegisteredUser) =>
      (await t.client.post('/v1/user/login', { phone: who.phone, password: who.password })).body
        .data.token as string;
    /** Registers a Web Push device whose endpoint is the loopback push service. */
    const registerBrowser = async (who: RegisteredUser, deviceId: string, token = who.token) => {
      endpoints += 1;
      const browser = service.browser(`/send/${storage}-${presence}-${endpoints}`);
      const res = await who.client.request('POST', '/v1/push/devices', {
        token,
        body: {
          deviceId,
          platform: 'webpush',
          subscription: { ...browser.subscription, expirationTime: null },
        },
      });
      expect(res.status).toBe(200);
      return browser;
    };
    /** What the browser's endpoint received and finished checking (decrypted, or refused). */
    const at = (b: FakeBrowser): ReceivedPush[] =>
      service.received.filter(
        (r) =>
          b.subscription.endpoint.endsWith(r.path) &&
          (r.payload !== undefined || r.error !== undefined),
      );
    const chat = (ws: WsClient, recvId: string, content: string, extra = {}) =>
      ws.call('conversation.chat', {
        chatType: 2,
        recvId,
        msg: { mType: 0, content },
        ...extra,
      });
    /**
     * Events are handled in order (concurrency 1): once a later message's webhook call
     * to `marker` arrived, everything sent before it was handled.
     */
    const settled = async (sender: WsClient, marker: RegisteredUser) => {
      const content = `marker-${Math.random()}`;
      await chat(sender, marker.id, content);
      await until(
        () => hook.calls.some((c) => (c.body as { body?: string }).body === content),
        'marker webhook',
      );
    };
    const sentRows = (msgId: string) =>
      t.app.storage.db.selectFrom('pushSent').selectAll().where('msgId', '=', msgId).execute();

    it('sends an offline device one decrypted notification, nothing to an online one, never twice', async () => {
      const [alice, bob, carol] = [
        await createUser(t.client, { nickname: 'Alice' }),
        await createUser(t.client),
        await createUser(t.client),
      ];
      await befriend(alice, bob);
      await befriend(alice, carol);
      const a = await connect(alice.token);
      // Bob's browser registered with his first token; his phone is another login.
      const browser = await registerBrowser(bob, 'browser');
      const phoneToken = await login(bob);

      // Online on that device (a socket with the registering token): no push, nothing written.
      const b = await connect(bob.token);
      const live = await chat(a, bob.id, 'while online');
      await settled(a, carol);
      expect(at(browser)).toHaveLength(0);
      expect(await sentRows(live.msgId)).toEqual([]);
      // The webhook (fallback) is for users without a device: not bob.
      expect(hook.calls.filter((c) => c.body.userId === bob.id)).toEqual([]);
      await b.close();
      await until(async () => !(await t.app.presence.onlineAmong([bob.id])).has(bob.id), 'offline');

      // Online on another device only: this one is notified.
      const phone = await connect(phoneToken);
      const sent = await chat(a, bob.id, 'hello  bob');
      await until(() => at(browser).length === 1, 'notification');
      const [got] = at(browser);
      expect(got!.error).toBeUndefined();
      expect(got!.payload).toEqual({
        title: 'Alice',
        body: 'hello bob',
        badge: 2,
        tag: sent.conversationId,
        data: { conversationId: sent.conversationId, seq: String(sent.seq), msgId: sent.msgId },
      });
      expect(got!.headers.topic).toBe(topicOf(sent.conversationId));
      expect(got!.vapid).toMatchObject({ sub: vapid.subject, k: vapid.publicKey });
      // Recorded once the push service answered, which is just after it got the request.
      await until(async () => (await sentRows(sent.msgId)).length === 1, 'push_sent row');
      expect(await sentRows(sent.msgId)).toMatchObject([{ userId: bob.id, deviceId: 'browser' }]);
      await phone.close();

      // The broker delivers the event again: the notification is not sent twice.
      const [event] = (await publishedEvents(t.app, 'message-sent')).filter(
        (e) => e.payload.msgId === sent.msgId,
      );
      await t.app.broker.publish('domain', [{ event: event!.event, key: sent.conversationId }]);
      await settled(a, carol);
      expect(at(browser)).toHaveLength(1);
      // No per-message de-duplication row for this consumer (processed_events).
      const marks = await t.app.storage.db
        .selectFrom('processedEvents')
        .select('consumer')
        .where('consumer', '=', 'push.delivery')
        .execute();
      expect(marks).toEqual([]);

      const metrics = await (await fetchMetrics(t.url)).text();
      expect(metrics).toMatch(
        /easychat_push_notifications_total\{[^}]*outcome="sent"[^}]*\} [1-9]/,
      );
      expect(metrics).toMatch(
        /easychat_push_provider_seconds_count\{[^}]*provider="webpush"[^}]*\} [1-9]/,
      );
      expect(metrics).toMatch(
        /easychat_push_delay_seconds_count\{[^}]*provider="webpush"[^}]*\} [1-9]/,
      );
    });

    it('notifies a user whose earlier messages found no device once a device registers', async () => {
      const [alice, dave, erin] = [
        await createUser(t.client, { nickname: 'Alice' }),
        await createUser(t.client),
        await createUser(t.client),
      ];
      await befriend(alice, dave);
      await befriend(alice, erin);
      const a = await connect(alice.token);
      // Dave has no device yet (with in-memory presence, remembered as such).
      await chat(a, dave.id, 'before any device');
      await chat(a, dave.id, 'still none');
      await settled(a, erin);
      const browser = await registerBrowser(dave, 'laptop');
      await chat(a, dave.id, 'now with one');
      await until(() => at(browser).length === 1, 'notification after registering');
      expect(at(browser)[0]!.payload).toMatchObject({ body: 'now with one' });
    });

    it('tells a signed-in browser the VAPID public key to subscribe with', async () => {
      const alice = await createUser(t.client);
      const res = await alice.client.get('/v1/push/vapidKey');
      expect(res.body).toEqual({ code: 200, msg: 'ok', data: { publicKey: vapid.publicKey } });
      const anonymous = await t.client.request('GET', '/v1/push/vapidKey', { token: null });
      expect([anonymous.status, anonymous.body.code]).toEqual([401, 100003]);
    });

    it('deletes a device its push service answers 410 for', async () => {
      const [alice, bob, carol] = [
        await createUser(t.client),
        await createUser(t.client),
        await createUser(t.client),
      ];
      await befriend(alice, bob);
      await befriend(alice, carol);
      const a = await connect(alice.token);
      const browser = await registerBrowser(bob, 'old-browser');
      const path = new URL(browser.subscription.endpoint).pathname;
      service.setAnswer((p) => ({ status: p === path ? 410 : 201 }));
      try {
        await chat(a, bob.id, 'anyone there?');
        await settled(a, carol);
      } finally {
        service.setAnswer(() => ({ status: 201 }));
      }
      expect(at(browser)).toHaveLength(1);
      const list = (await bob.client.get('/v1/push/devices')).body.data.list;
      expect(list).toEqual([]);
      const metrics = await (await fetchMetrics(t.url)).text();
      expect(metrics).toMatch(
        /easychat_push_notifications_total\{[^}]*provider="webpush"[^}]*outcome="pruned"[^}]*\} [1-9]/,
      );
    });

    it('notifies, of a group, the offline devices; the webhook only the offline members without one', async () => {
      const [alice, bob, carol, dave, erin, marker] = [
        await createUser(t.client, { nickname: 'Alice' }),
        await createUser(t.client),
        await createUser(t.client),
        await createUser(t.client),
        await createUser(t.client),
        await createUser(t.client),
      ];
      await befriend(alice, marker);
      const groupId = await createGroupWith(alice, [bob, carol, dave, erin], { name: 'Crew' });
      // bob: a device, offline. carol: no device, offline. dave: a device, online on it.
      // erin: no device, online.
      const bobs = await registerBrowser(bob, 'browser');
      const daves = await registerBrowser(dave, 'browser');
      const a = await connect(alice.token);
      await connect(dave.token);
      await connect(erin.token);

      const sent = await a.call('conversation.chat', {
        chatType: 1,
        recvId: groupId,
        msg: { mType: 0, content: 'crew call' },
      });
      await settled(a, marker);
      await until(() => at(bobs).length === 1, 'notification');
      expect(at(bobs)[0]!.payload).toMatchObject({
        title: 'Crew',
        body: 'Alice: crew call',
        data: { msgId: sent.msgId },
      });
      expect(at(daves)).toHaveLength(0);
      const hooked = hook.calls
        .filter((c) => (c.body as { data?: { msgId?: string } }).data?.msgId === sent.msgId)
        .map((c) => c.body.userId);
      expect(hooked).toEqual([carol.id]);
      expect((await sentRows(sent.msgId)).map((r) => r.userId)).toEqual([bob.id]);
    });

    it('titles a notification with the sender’s and the group’s names as they are now', async () => {
      const [alice, carol] = [
        await createUser(t.client, { nickname: 'Alice' }),
        await createUser(t.client),
      ];
      await befriend(alice, carol);
      const groupId = await createGroupWith(alice, [carol], { name: 'Hikers' });
      const a = await connect(alice.token);
      /** The webhook call (Carol is offline, with no device) of a message sent now. */
      const titled = async (chatType: 1 | 2, recvId: string) => {
        const content = `named-${Math.random()}`;
        await a.call('conversation.chat', { chatType, recvId, msg: { mType: 0, content } });
        await until(
          () => hook.calls.some((c) => (c.body as { body?: string }).body?.endsWith(content)),
          'webhook call',
        );
        const call = hook.calls.find((c) => (c.body as { body?: string }).body?.endsWith(content));
        const { title, body } = call!.body as { title: string; body: string };
        return `${title} / ${body.slice(0, body.length - content.length)}`;
      };
      expect(await titled(2, carol.id)).toBe('Alice / ');
      expect(await titled(1, groupId)).toBe('Hikers / Alice: ');
      // Names are held in memory; their changes' events drop them (the outbox relay's
      // delay, not the minute a name is held).
      expect((await alice.client.put('/v1/user/user', { nickname: 'Alicia' })).status).toBe(200);
      expect(
        (await alice.client.put('/v1/social/group', { groupId, name: 'Climbers' })).status,
      ).toBe(200);
      await until(async () => (await titled(2, carol.id)) === 'Alicia / ', 'renamed sender');
      await until(
        async () => (await titled(1, groupId)) === 'Climbers / Alicia: ',
        'renamed group',
      );
    });

    it('notifies a muted group only for a mention; a recall replaces the notification', async () => {
      const [alice, bob, carol] = [
        await createUser(t.client, { nickname: 'Alice' }),
        await createUser(t.client),
        await createUser(t.client),
      ];
      await befriend(alice, carol);
      const groupId = await createGroupWith(alice, [bob], { name: 'Hikers' });
      const browser = await registerBrowser(bob, 'browser');
      const muted = await bob.client.request('PUT', '/v1/im/conversation', {
        body: { conversationList: { [groupId]: { muted: true } } },
      });
      expect(muted.status).toBe(200);
      const a = await connect(alice.token);
      const group = (content: string, extra = {}) =>
        a.call('conversation.chat', {
          chatType: 1,
          recvId: groupId,
          msg: { mType: 0, content },
          ...extra,
        });

      await group('not for you');
      await settled(a, carol);
      expect(at(browser)).toHaveLength(0);

      const mention = await group('@bob look', { atUserIds: [bob.id] });
      await until(() => at(browser).length === 1, 'mention notification');
      expect(at(browser)[0]!.payload).toMatchObject({
        title: 'Hikers',
        body: 'Alice: @bob look',
        tag: groupId,
        data: { msgId: mention.msgId },
      });

      await a.call('message.revoke', { conversationId: groupId, msgId: mention.msgId });
      await until(() => at(browser).length === 2, 'withdrawal');
      const withdrawal = at(browser)[1]!;
      expect(withdrawal.error).toBeUndefined();
      expect(withdrawal.payload).toMatchObject({
        title: 'Hikers',
        body: 'Alice recalled a message',
        tag: groupId,
        recalled: true,
        data: { conversationId: groupId, msgId: mention.msgId },
      });
      expect(withdrawal.headers.topic).toBe(at(browser)[0]!.headers.topic);
      expect(JSON.stringify(withdrawal.payload)).not.toContain('look');
      await until(
        async () => (await sentRows(mention.msgId))[0]?.recalledAt != null,
        'withdrawal recorded',
      );
    });
  },
);
