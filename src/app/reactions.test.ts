import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../test/support/factories.js';
import { fakeProvider, webhook } from '../../test/support/fake-webhook.js';
import { befriend, createGroupWith } from '../../test/support/social.js';
import { startTestApp, type TestApp } from '../../test/support/test-app.js';
import { SuiteSockets } from '../../test/support/ws-client.js';
import { signBody, SIGNATURE_HEADER } from '../modules/ingest/ingest.signature.js';

const INGEST_SECRET = 'ops-secret-0123456789abcdef';

describe('reactions to domain events', () => {
  let t: TestApp;
  let provider: Awaited<ReturnType<typeof fakeProvider>>;
  const sockets = new SuiteSockets(() => t);
  beforeAll(async () => {
    provider = await fakeProvider([]);
    t = await startTestApp({
      overrides: {
        notify: {
          push: { driver: 'webhook', webhook: webhook(provider.url), collapseWindowMs: 300 },
        },
        ingest: { sources: { ops: { secret: INGEST_SECRET, types: ['user-disabled'] } } },
      },
    });
  });
  afterAll(async () => {
    await sockets.closeAll();
    await t.close();
    await provider.close();
  });
  const connect = (token: string) => sockets.connect(token);

  it('closes a disabled user’s sockets with 4003', async () => {
    const user = await createUser(t.client);
    const socket = await connect(user.token);
    const raw = JSON.stringify({
      event_type: 'user-disabled',
      timestamp: Date.now(),
      payload: { userId: user.id, reason: 'abuse' },
      metadata: { source: 'ops', version: '1' },
    });
    const res = await t.client.request('POST', '/v1/events', {
      rawBody: raw,
      headers: { [SIGNATURE_HEADER]: signBody(INGEST_SECRET, raw) },
    });
    expect(res.status).toBe(200);
    expect(await socket.closed).toEqual({ code: 4003, reason: 'account disabled' });
  });

  it('closes only the sockets opened with a token that logged out', async () => {
    const user = await createUser(t.client);
    const second = await t.client.post('/v1/user/login', {
      phone: user.phone,
      password: user.password,
    });
    const loggingOut = await connect(user.token);
    const staying = await connect(second.body.data.token);
    await user.client.post('/v1/user/logout');
    expect(await loggingOut.closed).toEqual({ code: 4001, reason: 'token revoked' });
    expect(staying.isOpen).toBe(true);
  });

  it('pushes friend and group events to the users they concern', async () => {
    const [alice, bob, carol] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const [a, b] = [await connect(alice.token), await connect(bob.token)];
    const asked = await alice.client.post('/v1/social/friend/putIn', {
      userId: bob.id,
      reqMsg: 'hi',
    });
    const request = await b.waitFor((f) => f.method === 'friend.request');
    expect(request).toMatchObject({
      frameType: 0,
      data: { requestId: asked.body.data.id, reqUid: alice.id, userId: bob.id, reqMsg: 'hi' },
    });
    await bob.client.put('/v1/social/friend/putIn', {
      friendReqId: asked.body.data.id,
      handleResult: 2,
    });
    expect((await a.waitFor((f) => f.method === 'friend.request.handled')).data.handleResult).toBe(
      2,
    );
    await a.waitFor((f) => f.method === 'friend.added');

    const groupId = (
      await alice.client.post('/v1/social/group', { name: 'verified', isVerify: true })
    ).body.data.id as string;
    const c = await connect(carol.token);
    await carol.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 });
    const groupRequest = await a.waitFor((f) => f.method === 'group.request');
    expect(groupRequest.data).toMatchObject({ groupId, reqId: carol.id });
    await alice.client.put('/v1/social/group/putIn', {
      groupReqId: groupRequest.data.requestId,
      groupId,
      handleResult: 2,
    });
    expect((await c.waitFor((f) => f.method === 'group.member.joined')).data).toMatchObject({
      groupId,
      userId: carol.id,
    });
    // A client may not send these itself.
    const spoof = await c.request('friend.request', {});
    expect(spoof.data.code).toBe(100008);
  });

  it('sends one collapsed notify.push to an offline recipient and none to online ones', async () => {
    const [alice, bob, carol] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    await befriend(alice, bob);
    await befriend(alice, carol);
    const a = await connect(alice.token);
    await connect(carol.token);
    for (let i = 0; i < 3; i += 1) {
      await a.call('conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        msg: { mType: 0, content: `to offline ${i}` },
      });
      await a.call('conversation.chat', {
        chatType: 2,
        recvId: carol.id,
        msg: { mType: 0, content: `to online ${i}` },
      });
    }
    const groupId = await createGroupWith(alice, [bob, carol], { name: 'Hikers' });
    await a.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      msg: { mType: 0, content: 'group' },
    });

    const deadline = Date.now() + 10_000;
    const forUser = (id: string) => provider.calls.filter((c) => c.body.userId === id);
    while (forUser(bob.id).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const bobPushes = forUser(bob.id);
    const single = bobPushes.find((p) => String(p.body.collapseKey).includes('_'))!;
    // Title the sender, body the latest text, badge bob's total unread (push.preview: full)
    // when the push is sent: 3, or 4 when the group message was stored before it went out.
    expect(single.body).toMatchObject({
      title: alice.nickname,
      body: 'to offline 2',
      data: { collapsedCount: '3' },
    });
    expect(['3', '4']).toContain((single.body.data as { badge: string }).badge);
    const group = bobPushes.filter((p) => p.body.collapseKey === `chat:${groupId}`);
    expect(group).toHaveLength(1);
    expect(group[0]!.body).toMatchObject({
      title: 'Hikers',
      body: `${alice.nickname}: group`,
      data: { badge: '4' },
    });
    expect(bobPushes).toHaveLength(2);
    expect(bobPushes.every((p) => p.signatureOk)).toBe(true);
    expect(forUser(carol.id)).toEqual([]);
    expect(forUser(alice.id)).toEqual([]);
  });

  it('a muted conversation notifies an offline member only when it mentions them', async () => {
    const [alice, bob, carol] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const groupId = await createGroupWith(alice, [bob, carol]);
    for (const user of [bob, carol]) {
      const muted = await user.client.put('/v1/im/conversation', {
        conversationList: { [groupId]: { muted: true } },
      });
      expect(muted.status).toBe(200);
    }
    const a = await connect(alice.token);
    const say = (extra: Record<string, unknown>) =>
      a.call('conversation.chat', {
        chatType: 1,
        recvId: groupId,
        msg: { mType: 0, content: 'hi' },
        ...extra,
      });
    await say({});
    await say({ atUserIds: [carol.id] });
    const forUser = (id: string) =>
      provider.calls.filter(
        (c) => c.body.userId === id && c.body.collapseKey === `chat:${groupId}`,
      );
    const deadline = Date.now() + 10_000;
    while (forUser(carol.id).length < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(forUser(carol.id)).toHaveLength(1);
    expect(forUser(bob.id)).toEqual([]);
  });
});
