import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { Frame } from '../../../test/support/ws-client.js';

/** A pushed chat message (group notices, mType 10, are pushed the same way but are not chat). */
const isChatPush = (conversationId?: string) => (f: Frame) =>
  f.frameType === 0 &&
  f.method === 'push' &&
  f.data?.contentType === 0 &&
  f.data.mType !== 10 &&
  (conversationId === undefined || f.data.conversationId === conversationId);

describe.each(STORAGES)('chat over WebSocket on %s', (storage) => {
  const { t, connect } = suiteApp({ storage, overrides: { im: { syncPageSize: 30 } } });

  const text = (content: string, extra: Record<string, unknown> = {}) => ({
    msg: { mType: 0, content },
    ...extra,
  });

  it('lets two friends chat both ways, persisted before the answer and pushed to the peer', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const [a, b] = [await connect(alice), await connect(bob)];

    const sent = await a.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      ...text('hello bob'),
    });
    const conversationId = [alice.id, bob.id].sort().join('_');
    expect(sent).toMatchObject({
      msgId: expect.any(String),
      conversationId,
      chatType: 2,
      sendId: alice.id,
      recvId: bob.id,
      seq: 1,
      mType: 0,
      content: 'hello bob',
      clientMsgId: null,
    });
    expect(sent.sendTime).toBeGreaterThan(Date.now() - 60_000);
    const stored = await t.app.storage.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', sent.msgId)
      .execute();
    expect(stored).toHaveLength(1);

    const push = await b.waitFor(isChatPush(conversationId));
    expect(push).toMatchObject({
      frameType: 0,
      method: 'push',
      formId: alice.id,
      data: { ...sent, contentType: 0 },
    });

    const reply = await b.call('conversation.chat', {
      chatType: 2,
      recvId: alice.id,
      ...text('hi alice'),
    });
    expect(reply.seq).toBe(2);
    const back = await a.waitFor((f) => isChatPush(conversationId)(f) && f.data.seq === 2);
    expect(back.data.content).toBe('hi alice');
    // The sender's own device got the answer, not a push of its own message.
    expect(a.pushes().filter((f) => f.data.sendId === alice.id)).toEqual([]);

    const history = await alice.client.get('/v1/im/chatlog', { query: { conversationId } });
    expect(history.status).toBe(200);
    expect(history.body.data.list.map((m: { seq: number }) => m.seq)).toEqual([2, 1]);
  });

  it('shows conversations with unread counts that never include own messages and only move forward', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const a = await connect(alice);
    const conversationId = [alice.id, bob.id].sort().join('_');
    for (let i = 0; i < 3; i += 1)
      await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...text(`m${i}`) });

    const bobView = (await bob.client.get('/v1/im/conversation')).body.data.conversationList[
      conversationId
    ];
    expect(bobView).toMatchObject({
      conversationId,
      chatType: 2,
      targetId: alice.id,
      isShow: true,
      maxSeq: 3,
      readSeq: 0,
      unread: 3,
    });
    expect(bobView.msg).toMatchObject({ seq: 3, content: 'm2' });
    const aliceView = (await alice.client.get('/v1/im/conversation')).body.data.conversationList[
      conversationId
    ];
    expect(aliceView).toMatchObject({ targetId: bob.id, maxSeq: 3, readSeq: 3, unread: 0 });

    const put = await bob.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { readSeq: 2 } },
    });
    expect(put.body).toEqual({ code: 200, msg: 'ok', data: {} });
    expect(
      (await bob.client.get('/v1/im/conversation')).body.data.conversationList[conversationId],
    ).toMatchObject({
      readSeq: 2,
      unread: 1,
    });
    // Backwards is ignored; past maxSeq is capped.
    await bob.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { readSeq: 1 } },
    });
    expect(
      (await bob.client.get('/v1/im/conversation')).body.data.conversationList[conversationId]
        .readSeq,
    ).toBe(2);
    await bob.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { readSeq: 99 } },
    });
    expect(
      (await bob.client.get('/v1/im/conversation')).body.data.conversationList[conversationId],
    ).toMatchObject({
      readSeq: 3,
      unread: 0,
    });
    // Hiding and a new message showing it again.
    await bob.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { isShow: false } },
    });
    expect(
      (await bob.client.get('/v1/im/conversation')).body.data.conversationList[conversationId]
        .isShow,
    ).toBe(false);
    await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...text('again') });
    expect(
      (await bob.client.get('/v1/im/conversation')).body.data.conversationList[conversationId],
    ).toMatchObject({
      isShow: true,
      unread: 1,
    });
  });

  it("sums each user's unread counts as the list shows them, for many users in one lookup (a push's badge)", async () => {
    const [alice, bob, carol, dave] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    await befriend(alice, bob);
    await befriend(carol, bob);
    const [a, b, c] = [await connect(alice), await connect(bob), await connect(carol)];
    for (let i = 0; i < 3; i += 1)
      await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...text(`a${i}`) });
    // Bob's own reply and Carol's message: own messages never count.
    await b.call('conversation.chat', { chatType: 2, recvId: alice.id, ...text('reply') });
    await c.call('conversation.chat', { chatType: 2, recvId: bob.id, ...text('hi') });
    // A group (its join notices never count) with a message from Carol.
    const groupId = await createGroupWith(carol, [alice, bob]);
    const all = await c.call('conversation.chat', { chatType: 1, recvId: groupId, ...text('all') });
    // Alice reads her chat with Bob past its end; Bob reads part of Carol's.
    const pair = (x: RegisteredUser, y: RegisteredUser) => [x.id, y.id].sort().join('_');
    await alice.client.put('/v1/im/conversation', {
      conversationList: { [pair(alice, bob)]: { readSeq: 99 } },
    });

    const listed = async (user: RegisteredUser) =>
      Object.values(
        (await user.client.get('/v1/im/conversation')).body.data.conversationList as Record<
          string,
          { unread: number }
        >,
      ).reduce((sum, view) => sum + view.unread, 0);
    const ids = [alice.id, bob.id, carol.id, dave.id];
    const totals = await t.app.services.im.conversations.unreadTotals(ids);
    expect([...totals.keys()].sort()).toEqual([...ids].sort());
    const expected = [await listed(alice), await listed(bob), await listed(carol), 0];
    expect(ids.map((id) => totals.get(id))).toEqual(expected);
    // Bob: none from Alice (his reply read up to it), 1 from Carol, 1 in the group.
    expect(totals.get(bob.id)).toBe(2);
    expect(totals.get(alice.id)).toBe(1);
    expect((await t.app.services.im.conversations.unreadTotals([])).size).toBe(0);

    // A push's badges come with who muted its conversation and is not mentioned since.
    const muted = await bob.client.put('/v1/im/conversation', {
      conversationList: { [groupId]: { muted: true } },
    });
    expect(muted.status).toBe(200);
    const { conversations } = t.app.services.im;
    const quietFor = async (seq: number) => {
      const states = await conversations.badgesAndMutes(ids, groupId, seq);
      expect(states.badges).toEqual(totals);
      return [...states.quiet];
    };
    expect(await quietFor(all.seq)).toEqual([bob.id]);
    const mention = await c.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      atUserIds: [bob.id],
      ...text('@bob'),
    });
    // Mentioned by that message or a later one: not quiet; after the mention: quiet again.
    const { badges } = await conversations.badgesAndMutes(ids, groupId, mention.seq);
    expect(badges.get(bob.id)).toBe(3);
    totals.set(alice.id, totals.get(alice.id)! + 1);
    totals.set(bob.id, 3);
    expect(await quietFor(all.seq)).toEqual([]);
    expect(await quietFor(mention.seq)).toEqual([]);
    expect(await quietFor(mention.seq + 1)).toEqual([bob.id]);
  });

  it('stores a retried send once, sequentially and concurrently', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const [a1, a2] = [await connect(alice), await connect(alice)];
    const first = await a1.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      clientMsgId: 'c-1',
      ...text('once'),
    });
    const retry = await a1.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      clientMsgId: 'c-1',
      ...text('once'),
    });
    expect(retry).toEqual(first);
    const raced = await Promise.all([
      a1.call('conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        clientMsgId: 'c-2',
        ...text('race'),
      }),
      a2.call('conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        clientMsgId: 'c-2',
        ...text('race'),
      }),
    ]);
    expect(raced[0]).toEqual(raced[1]);
    const rows = await t.app.storage.db
      .selectFrom('messages')
      .select(['seq', 'clientMsgId'])
      .where('sendId', '=', alice.id)
      .orderBy('seq')
      .execute();
    expect(rows).toEqual([
      { seq: 1, clientMsgId: 'c-1' },
      { seq: 2, clientMsgId: 'c-2' },
    ]);
    // The same clientMsgId in another conversation is a client bug, not a retry.
    const carol = await createUser(t.client);
    await befriend(alice, carol);
    const reused = await a1.request('conversation.chat', {
      chatType: 2,
      recvId: carol.id,
      clientMsgId: 'c-1',
      ...text('x'),
    });
    expect(reused.frameType).toBe(9);
    expect(reused.data.code).toBe(400009);
  });

  it('gives 20 concurrent senders in one group dense seqs with no gap or repeat', async () => {
    const owner = await createUser(t.client);
    const members = await Promise.all(Array.from({ length: 19 }, () => createUser(t.client)));
    const groupId = await createGroupWith(owner, members);
    // The group's history starts with its membership notices: the founding and 19 joins.
    const notices = 20;
    const senders = await Promise.all([owner, ...members].map(connect));
    const answers = await Promise.all(
      senders.flatMap((s, i) =>
        Array.from({ length: 5 }, (_, k) =>
          s.call('conversation.chat', { chatType: 1, recvId: groupId, ...text(`s${i}-${k}`) }),
        ),
      ),
    );
    const seqs = answers.map((m) => m.seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => notices + i + 1));
    const rows = await t.app.storage.db
      .selectFrom('messages')
      .select(['seq', 'mType'])
      .where('conversationId', '=', groupId)
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(rows.slice(0, notices).every((r) => r.mType === 10)).toBe(true);
    expect(rows.slice(notices).map((r) => r.seq)).toEqual(seqs);
    const conversation = await t.app.storage.db
      .selectFrom('conversations')
      .select('maxSeq')
      .where('id', '=', groupId)
      .executeTakeFirstOrThrow();
    expect(conversation.maxSeq).toBe(notices + 100);
  });

  it('delivers every group message exactly once per device, in seq order, to 50 members', async () => {
    const owner = await createUser(t.client);
    const members = await Promise.all(Array.from({ length: 49 }, () => createUser(t.client)));
    const groupId = await createGroupWith(owner, members);
    const devices = await Promise.all(members.map(connect));
    const secondDevice = await connect(members[0]!);
    const ownerOtherDevice = await connect(owner);
    const sender = await connect(owner);
    const sent: any[] = [];
    for (let i = 0; i < 20; i += 1) {
      sent.push(
        await sender.call('conversation.chat', { chatType: 1, recvId: groupId, ...text(`g${i}`) }),
      );
    }
    for (const device of [...devices, secondDevice, ownerOtherDevice]) {
      const pushes = await device.waitForCount(isChatPush(groupId), 20);
      await new Promise((r) => setTimeout(r, 20));
      const got = device.frames.filter(isChatPush(groupId)).map((f) => f.data.seq);
      expect(got).toEqual(sent.map((m) => m.seq));
      expect(pushes[0]!.formId).toBe(owner.id);
    }
    expect(sender.pushes()).toEqual([]);
  });

  it('lets a user who was offline during 100 messages get all of them by paged sync', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const a = await connect(alice);
    for (let i = 1; i <= 100; i += 1)
      await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...text(`n${i}`) });
    const conversationId = [alice.id, bob.id].sort().join('_');

    const b = await connect(bob);
    const list = (await bob.client.get('/v1/im/conversation')).body.data.conversationList;
    expect(list[conversationId]).toMatchObject({ maxSeq: 100, unread: 100 });
    const received: number[] = [];
    let lastSeq = 0;
    let pages = 0;
    for (;;) {
      const answer = await b.call('conversation.sync', {
        conversations: { [conversationId]: lastSeq },
      });
      const page = answer.conversations[conversationId];
      expect(page.maxSeq).toBe(100);
      received.push(...page.messages.map((m: { seq: number }) => m.seq));
      pages += 1;
      if (!page.hasMore) break;
      lastSeq = page.messages[page.messages.length - 1].seq;
    }
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(pages).toBe(4);
  });

  it('refuses strangers, non-friends and non-members with error frames and 403s', async () => {
    const [alice, bob, stranger] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    await befriend(alice, bob);
    const groupId = await createGroupWith(alice, [bob]);
    const s = await connect(stranger);
    const notFriend = await s.request('conversation.chat', {
      chatType: 2,
      recvId: alice.id,
      ...text('hi?'),
    });
    expect(notFriend).toMatchObject({
      frameType: 9,
      method: 'conversation.chat',
      data: { code: 400001 },
    });
    const notMember = await s.request('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      ...text('let me in'),
    });
    expect(notMember.data.code).toBe(400002);
    const nobody = await s.request('conversation.chat', {
      chatType: 2,
      recvId: 'NO_SUCH_USER',
      ...text('?'),
    });
    expect(nobody.data.code).toBe(400006);
    const self = await s.request('conversation.chat', {
      chatType: 2,
      recvId: stranger.id,
      ...text('me'),
    });
    expect(self.data.code).toBe(400008);
    const serverOnly = await s.request('push', { content: 'spoof' });
    expect(serverOnly.data).toEqual({ code: 100008, msg: 'method push is server-only' });

    const a = await connect(alice);
    const msg = await a.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      ...text('private'),
    });
    const conversationId = msg.conversationId as string;
    const peek = await stranger.client.get('/v1/im/chatlog', { query: { conversationId } });
    expect(peek.status).toBe(403);
    expect(peek.body.code).toBe(400003);
    const records = await stranger.client.get('/v1/im/chatlog/readRecords', {
      query: { msgId: msg.msgId },
    });
    expect(records.status).toBe(404);
    expect(records.body.code).toBe(400005);
    const mark = await s.request('conversation.markChat', { conversationId, readSeq: 1 });
    expect(mark.data.code).toBe(400003);
    const sync = await s.call('conversation.sync', {
      conversations: { [conversationId]: 0, [groupId]: 0 },
    });
    expect(sync.conversations[conversationId]).toMatchObject({
      messages: [],
      error: { code: 400003 },
    });
    expect(sync.conversations[groupId]).toMatchObject({ messages: [], error: { code: 400003 } });
    const put = await stranger.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { readSeq: 1 } },
    });
    expect(put.status).toBe(403);
    const setup = await stranger.client.post('/v1/im/setup/conversation', {
      recvId: alice.id,
      chatType: 2,
    });
    expect(setup.status).toBe(403);
    expect(setup.body.code).toBe(400001);
    // Nothing of theirs leaked into the stranger's list.
    expect((await stranger.client.get('/v1/im/conversation')).body.data.conversationList).toEqual(
      {},
    );
  });

  it('sends read receipts: at once in single chats, merged in groups', async () => {
    const [alice, bob, carol, dave] = await Promise.all(
      Array.from({ length: 4 }, () => createUser(t.client)),
    );
    await befriend(alice!, bob!);
    const [a, b] = [await connect(alice!), await connect(bob!)];
    const m1 = await a.call('conversation.chat', {
      chatType: 2,
      recvId: bob!.id,
      ...text('read me'),
    });
    await a.call('conversation.chat', { chatType: 2, recvId: bob!.id, ...text('and me') });
    expect(
      await b.call('conversation.markChat', { conversationId: m1.conversationId, readSeq: 1 }),
    ).toEqual({ readSeq: 1 });
    const receipt = await a.waitFor((f) => f.method === 'push' && f.data?.contentType === 1);
    expect(receipt).toMatchObject({
      formId: bob!.id,
      data: {
        conversationId: m1.conversationId,
        chatType: 2,
        sendId: bob!.id,
        recvId: alice!.id,
        readSeq: 1,
        contentType: 1,
      },
    });
    // The Go system's form: read up to the newest of the given message ids.
    const m2 = (
      await alice!.client.get('/v1/im/chatlog', { query: { conversationId: m1.conversationId } })
    ).body.data.list[0];
    expect(
      await b.call('conversation.markChat', {
        chatType: 2,
        recvId: alice!.id,
        msgIds: [m1.msgId, m2.msgId],
      }),
    ).toEqual({ readSeq: 2 });
    expect(
      (await alice!.client.get('/v1/im/chatlog/readRecords', { query: { msgId: m2.msgId } })).body
        .data,
    ).toEqual({
      reads: [bob!.id],
      unReads: [],
    });

    const groupId = await createGroupWith(alice!, [bob!, carol!, dave!]);
    const [c, d] = [await connect(carol!), await connect(dave!)];
    const g = await a.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      ...text('group hello'),
    });
    await b.call('conversation.markChat', { conversationId: groupId, readSeq: g.seq });
    await c.call('conversation.markChat', { conversationId: groupId, readSeq: g.seq });
    const merged = await a.waitFor(
      (f) => f.method === 'push' && f.data?.contentType === 1 && f.data.conversationId === groupId,
    );
    expect(merged.data.reads).toEqual({ [bob!.id]: g.seq, [carol!.id]: g.seq });
    await new Promise((r) => setTimeout(r, 300));
    expect(
      a.frames.filter((f) => f.data?.contentType === 1 && f.data.conversationId === groupId),
    ).toHaveLength(1);
    const readRecords = await alice!.client.get('/v1/im/chatlog/readRecords', {
      query: { msgId: g.msgId },
    });
    expect(readRecords.body.data.reads.sort()).toEqual([bob!.id, carol!.id].sort());
    expect(readRecords.body.data.unReads).toEqual([dave!.id]);
    void d;
  });

  it('gives a new group member the conversation from their join onward', async () => {
    const [owner, early, late] = await Promise.all(
      Array.from({ length: 3 }, () => createUser(t.client)),
    );
    const groupId = await createGroupWith(owner!, [early!]);
    const o = await connect(owner!);
    await o.call('conversation.chat', { chatType: 1, recvId: groupId, ...text('before') });
    await late!.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 });
    // Seqs: 1 founding notice, 2 early's join, 3 "before", 4 late's own join notice,
    // which is the first thing late sees (and is never unread).
    const view = (await late!.client.get('/v1/im/conversation')).body.data.conversationList[
      groupId
    ];
    expect(view).toMatchObject({
      chatType: 1,
      targetId: groupId,
      maxSeq: 4,
      readSeq: 3,
      unread: 0,
      msg: { seq: 4, mType: 10, sendId: 'system' },
    });
    expect(JSON.parse(view.msg.content)).toEqual({
      type: 'member.joined',
      operatorId: late!.id,
      userId: late!.id,
      roleLevel: 3,
      joinSource: 2,
    });
    const l = await connect(late!);
    const after = await o.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      ...text('after'),
    });
    expect((await l.waitFor(isChatPush(groupId))).data.seq).toBe(after.seq);
    const history = (
      await late!.client.get('/v1/im/chatlog', { query: { conversationId: groupId } })
    ).body.data.list;
    expect(history.map((m: { seq: number; mType: number }) => [m.seq, m.mType])).toEqual([
      [after.seq, 0],
      [4, 10],
    ]);
    expect(after.seq).toBe(5);
    const sync = await l.call('conversation.sync', { conversations: { [groupId]: 0 } });
    expect(sync.conversations[groupId].messages.map((m: { seq: number }) => m.seq)).toEqual([4, 5]);

    // Leaving removes access.
    await late!.client.post('/v1/social/group/quit', { groupId });
    expect(
      (await late!.client.get('/v1/im/chatlog', { query: { conversationId: groupId } })).status,
    ).toBe(403);
    expect(
      (await late!.client.get('/v1/im/conversation')).body.data.conversationList[groupId],
    ).toBeUndefined();
  });

  it('answers malformed chat frames with error frames and keeps serving', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const a = await connect(alice);
    const bad: Array<[string, unknown, RegExp]> = [
      ['conversation.chat', { chatType: 2, recvId: bob.id }, /msg/],
      ['conversation.chat', { chatType: 3, recvId: bob.id, ...text('x') }, /chatType/],
      [
        'conversation.chat',
        { chatType: 2, recvId: bob.id, msg: { mType: 9, content: 'x' } },
        /mType/,
      ],
      [
        'conversation.chat',
        { chatType: 2, recvId: bob.id, msg: { mType: 0, content: '' } },
        /content/,
      ],
      [
        'conversation.chat',
        { chatType: 2, recvId: bob.id, clientMsgId: 'x'.repeat(65), ...text('x') },
        /clientMsgId/,
      ],
      ['conversation.markChat', { conversationId: 'c', readSeq: -1 }, /data/],
      ['conversation.sync', { conversations: { c: 'zero' } }, /conversations/],
      ['conversation.sync', {}, /conversations/],
    ];
    for (const [method, data, msg] of bad) {
      const answer = await a.request(method, data);
      expect(answer.frameType, JSON.stringify(data)).toBe(9);
      expect(answer.data.code).toBe(100002);
      expect(answer.data.msg).toMatch(msg);
    }
    expect(
      await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...text('fine') }),
    ).toMatchObject({ seq: 1 });
  });

  it('answers user.online with online friends only', async () => {
    const [alice, bob, carol, stranger] = await Promise.all(
      Array.from({ length: 4 }, () => createUser(t.client)),
    );
    await befriend(alice!, bob!);
    await befriend(alice!, carol!);
    const a = await connect(alice!);
    await connect(bob!);
    await connect(stranger!);
    await new Promise((r) => setTimeout(r, 50));
    expect(await a.call('user.online', {})).toEqual({ onlineList: { [bob!.id]: true } });
  });

  it('pages history by seq and by send time, newest first', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const a = await connect(alice);
    const sent: any[] = [];
    for (let i = 1; i <= 12; i += 1)
      sent.push(
        await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...text(`h${i}`) }),
      );
    const conversationId = sent[0].conversationId;
    const page = async (query: Record<string, number | string>) =>
      (
        await bob.client.get('/v1/im/chatlog', { query: { conversationId, ...query } })
      ).body.data.list.map((m: { seq: number }) => m.seq);
    expect(await page({ count: 5 })).toEqual([12, 11, 10, 9, 8]);
    expect(await page({ endSeq: 7, count: 5 })).toEqual([7, 6, 5, 4, 3]);
    expect(await page({ startSeq: 3, endSeq: 5 })).toEqual([5, 4, 3]);
    expect(await page({ startSendTime: sent[10].sendTime })).toEqual(
      sent
        .filter((m) => m.sendTime >= sent[10].sendTime)
        .map((m) => m.seq)
        .reverse(),
    );
  });
});
