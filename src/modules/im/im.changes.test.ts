import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { Frame, WsClient } from '../../../test/support/ws-client.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const HOUR = 3_600_000;

const isChange = (msgId: string) => (f: Frame) =>
  f.frameType === 0 && f.method === 'push' && f.data?.contentType === 2 && f.data.msgId === msgId;

describe.each(STORAGES)('messages that change, on %s', (storage) => {
  const { t, connect } = suiteApp({
    storage,
    overrides: {
      admin: { token: ADMIN_TOKEN },
      im: { syncPageSize: 5, reactions: { maxEmojis: 3, maxPerUser: 2 } },
    },
  });

  /** Two friends, connected, and their conversation id. */
  async function pair() {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const [a, b] = [await connect(alice), await connect(bob)];
    const conversationId = [alice.id, bob.id].sort().join('_');
    const say = (ws: WsClient, to: RegisteredUser, content: string, extra = {}) =>
      ws.call('conversation.chat', {
        chatType: 2,
        recvId: to.id,
        msg: { mType: 0, content },
        ...extra,
      });
    return { alice, bob, a, b, conversationId, say };
  }

  /** Moves a message back in time, as if sent `ms` ago. */
  async function age(msgId: string, ms: number) {
    await t.app.storage.db
      .updateTable('messages')
      .set({ sendTime: Date.now() - ms })
      .where('id', '=', msgId)
      .execute();
  }

  const errorOf = async (ws: WsClient, method: string, data: unknown) => {
    const frame = await ws.request(method, data);
    expect(frame.frameType, JSON.stringify(frame.data)).toBe(9);
    return frame.data.code as number;
  };

  it('recalls a message for everyone: content erased, placeholder pushed, seq and unread kept', async () => {
    const { alice, bob, a, b, conversationId, say } = await pair();
    const first = await say(a, bob, 'oops');
    await say(a, bob, 'second');
    const before = (await bob.client.get('/v1/im/conversation')).body.data.conversationList[
      conversationId
    ];

    const recalled = await a.call('message.revoke', { conversationId, msgId: first.msgId });
    expect(recalled).toMatchObject({
      msgId: first.msgId,
      seq: 1,
      content: '',
      revoked: { by: alice.id, at: expect.any(Number) },
      modSeq: 1,
    });
    const push = await b.waitFor(isChange(first.msgId));
    expect(push.data).toEqual({ ...recalled, contentType: 2 });
    const stored = await t.app.storage.db
      .selectFrom('messages')
      .select(['content', 'seq'])
      .where('id', '=', first.msgId)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ content: '', seq: 1 });

    const after = (await bob.client.get('/v1/im/conversation')).body.data.conversationList[
      conversationId
    ];
    expect(after).toMatchObject({ maxSeq: before.maxSeq, unread: before.unread, readSeq: 0 });
    // Recalling again answers the placeholder as it is.
    expect(await a.call('message.revoke', { conversationId, msgId: first.msgId })).toEqual(
      recalled,
    );
  });

  it('refuses a recall by the other party, a stranger, and past the window; managers may any time', async () => {
    const { bob, a, b, conversationId, say } = await pair();
    const sent = await say(a, bob, 'mine');
    expect(await errorOf(b, 'message.revoke', { conversationId, msgId: sent.msgId })).toBe(400101);
    const stranger = await connect(await createUser(t.client));
    expect(await errorOf(stranger, 'message.revoke', { conversationId, msgId: sent.msgId })).toBe(
      400003,
    );
    await age(sent.msgId, 25 * HOUR);
    expect(await errorOf(a, 'message.revoke', { conversationId, msgId: sent.msgId })).toBe(400102);
    expect(await errorOf(a, 'message.revoke', { conversationId, msgId: 'nope' })).toBe(400005);

    // In a group: a manager recalls anyone's message, even a week later; a member cannot.
    const [owner, manager, member] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const groupId = await createGroupWith(owner, [manager, member]);
    const promoted = await owner.client.put('/v1/social/group/member', {
      groupId,
      userId: manager.id,
      roleLevel: 2,
    });
    expect(promoted.status).toBe(200);
    const [m, x] = [await connect(manager), await connect(member)];
    const posted = await x.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      msg: { mType: 0, content: 'spam' },
    });
    const byManager = await m.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      msg: { mType: 0, content: 'rules' },
    });
    expect(
      await errorOf(x, 'message.revoke', { conversationId: groupId, msgId: byManager.msgId }),
    ).toBe(400101);
    await age(posted.msgId, 7 * 24 * HOUR);
    const recalled = await m.call('message.revoke', {
      conversationId: groupId,
      msgId: posted.msgId,
    });
    expect(recalled.revoked.by).toBe(manager.id);
    await x.waitFor(isChange(posted.msgId));
    // A non-member of the group is not in the conversation.
    expect(
      await errorOf(stranger, 'message.revoke', { conversationId: groupId, msgId: posted.msgId }),
    ).toBe(400003);
  });

  it('edits own text messages in the window, keeps versions for the admin only, erased on recall', async () => {
    const { bob, a, b, conversationId, say } = await pair();
    const sent = await say(a, bob, 'helo');
    const edited = await a.call('message.edit', {
      conversationId,
      msgId: sent.msgId,
      content: 'hello',
    });
    expect(edited).toMatchObject({ content: 'hello', editedAt: expect.any(Number), seq: 1 });
    expect((await b.waitFor(isChange(sent.msgId))).data.content).toBe('hello');
    await a.call('message.edit', { conversationId, msgId: sent.msgId, content: 'hello!' });

    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const versions = await t.client.get(`/v1/admin/messages/${sent.msgId}/versions`, {
      headers: admin,
    });
    expect(versions.status).toBe(200);
    expect(versions.body.data.versions.map((v: { content: string }) => v.content)).toEqual([
      'helo',
      'hello',
    ]);
    // Not for users: a user token is 403, none 401.
    expect(
      (await t.client.get(`/v1/admin/messages/${sent.msgId}/versions`, { token: bob.token }))
        .status,
    ).toBe(403);
    expect((await t.client.get(`/v1/admin/messages/${sent.msgId}/versions`)).status).toBe(401);

    expect(
      await errorOf(b, 'message.edit', { conversationId, msgId: sent.msgId, content: 'x' }),
    ).toBe(400103);
    const custom = await say(a, bob, '{"k":1}', { msg: { mType: 3, content: '{"k":1}' } });
    expect(
      await errorOf(a, 'message.edit', { conversationId, msgId: custom.msgId, content: 'x' }),
    ).toBe(400105);
    const old = await say(a, bob, 'old');
    await age(old.msgId, 49 * HOUR);
    expect(
      await errorOf(a, 'message.edit', { conversationId, msgId: old.msgId, content: 'x' }),
    ).toBe(400104);
    const stranger = await connect(await createUser(t.client));
    expect(
      await errorOf(stranger, 'message.edit', { conversationId, msgId: sent.msgId, content: 'x' }),
    ).toBe(400003);

    await a.call('message.revoke', { conversationId, msgId: sent.msgId });
    const erased = await t.client.get(`/v1/admin/messages/${sent.msgId}/versions`, {
      headers: admin,
    });
    expect(erased.body.data.versions).toEqual([]);
    expect(
      await errorOf(a, 'message.edit', { conversationId, msgId: sent.msgId, content: 'x' }),
    ).toBe(400106);
  });

  it('aggregates reactions per emoji, bounded per message and per user', async () => {
    const { alice, bob, a, b, conversationId, say } = await pair();
    const sent = await say(a, bob, 'react to me');
    const react = (ws: WsClient, emoji: string, add = true) =>
      ws.call('message.react', { conversationId, msgId: sent.msgId, emoji, add });
    expect(await react(a, '👍')).toEqual({ reactions: { '👍': [alice.id] } });
    expect(await react(b, '👍')).toEqual({ reactions: { '👍': [alice.id, bob.id] } });
    // Every device hears the change, the reacting one too (its answer has only the reactions).
    const push = await a.waitFor(
      (f) => isChange(sent.msgId)(f) && f.data.reactions['👍'].length === 2,
    );
    expect(push.data.reactions).toEqual({ '👍': [alice.id, bob.id] });
    await b.waitFor((f) => isChange(sent.msgId)(f) && f.data.reactions['👍'].length === 2);
    // Adding twice changes nothing.
    expect(await react(b, '👍')).toEqual({ reactions: { '👍': [alice.id, bob.id] } });
    await react(b, '🎉');
    // Bob has 2 (his limit); a third distinct emoji by alice is the per-message limit.
    expect(
      await errorOf(b, 'message.react', {
        conversationId,
        msgId: sent.msgId,
        emoji: '❤',
        add: true,
      }),
    ).toBe(400108);
    await react(a, '❤');
    expect(
      await errorOf(a, 'message.react', {
        conversationId,
        msgId: sent.msgId,
        emoji: '🔥',
        add: true,
      }),
    ).toBe(400108);
    expect(await react(b, '🎉', false)).toEqual({
      reactions: { '👍': [alice.id, bob.id], '❤': [alice.id] },
    });
    // Malformed emoji: refused by the schema.
    const bad = await a.request('message.react', {
      conversationId,
      msgId: sent.msgId,
      emoji: '__proto__',
      add: true,
    });
    expect(bad.data.code).toBe(100002);
    const stranger = await connect(await createUser(t.client));
    expect(
      await errorOf(stranger, 'message.react', {
        conversationId,
        msgId: sent.msgId,
        emoji: '👍',
        add: true,
      }),
    ).toBe(400003);
  });

  it('syncs changes after a modSeq without resending history; paged', async () => {
    const { bob, a, conversationId, say } = await pair();
    const sent = [];
    for (let i = 0; i < 8; i += 1) sent.push(await say(a, bob, `m${i}`));
    const bobWs = await connect(bob);
    const first = (
      await bobWs.call('conversation.sync', {
        conversations: { [conversationId]: { seq: 8, modSeq: 0 } },
      })
    ).conversations[conversationId];
    expect(first).toEqual({ messages: [], changes: [], hasMore: false, maxSeq: 8, maxModSeq: 0 });

    for (const m of sent.slice(0, 7)) {
      await a.call('message.edit', { conversationId, msgId: m.msgId, content: `${m.content}*` });
    }
    await a.call('message.revoke', { conversationId, msgId: sent[0].msgId });
    const page1 = (
      await bobWs.call('conversation.sync', {
        conversations: { [conversationId]: { seq: 8, modSeq: 0 } },
      })
    ).conversations[conversationId];
    expect(page1).toMatchObject({ messages: [], hasMore: true, maxSeq: 8 });
    expect(page1.changes.map((m: { seq: number }) => m.seq)).toEqual([2, 3, 4, 5, 6]);
    const page2 = (
      await bobWs.call('conversation.sync', {
        conversations: { [conversationId]: { seq: 8, modSeq: page1.maxModSeq } },
      })
    ).conversations[conversationId];
    expect(page2).toMatchObject({ hasMore: false, maxModSeq: 8 });
    expect(page2.changes.map((m: { seq: number; content: string }) => [m.seq, m.content])).toEqual([
      [7, 'm6*'],
      [1, ''],
    ]);
    // The old number form still works and gets no changes.
    const legacy = (
      await bobWs.call('conversation.sync', { conversations: { [conversationId]: 6 } })
    ).conversations[conversationId];
    expect(legacy.messages.map((m: { seq: number }) => m.seq)).toEqual([7, 8]);
    expect(legacy.changes).toEqual([]);
    // A stranger gets an error entry.
    const stranger = await connect(await createUser(t.client));
    const denied = (
      await stranger.call('conversation.sync', {
        conversations: { [conversationId]: { seq: 0, modSeq: 0 } },
      })
    ).conversations[conversationId];
    expect(denied.error.code).toBe(400003);
  });

  it('deletes for me and clears for me only; history and sync start after it', async () => {
    const { alice, bob, a, conversationId, say } = await pair();
    const m1 = await say(a, bob, 'one');
    const m2 = await say(a, bob, 'two');
    const bobWs = await connect(bob);
    expect(await bobWs.call('message.delete', { conversationId, msgIds: [m1.msgId] })).toEqual({});
    const seqsOf = async (user: RegisteredUser) =>
      (await user.client.get('/v1/im/chatlog', { query: { conversationId } })).body.data.list.map(
        (m: { seq: number }) => m.seq,
      );
    expect(await seqsOf(bob)).toEqual([2]);
    expect(await seqsOf(alice)).toEqual([2, 1]);
    expect(await errorOf(bobWs, 'message.delete', { conversationId, msgIds: ['missing'] })).toBe(
      400005,
    );
    const stranger = await connect(await createUser(t.client));
    expect(await errorOf(stranger, 'message.delete', { conversationId, msgIds: [m2.msgId] })).toBe(
      400003,
    );

    expect(await bobWs.call('conversation.clear', { conversationId })).toEqual({ clearSeq: 2 });
    expect(await seqsOf(bob)).toEqual([]);
    expect(await seqsOf(alice)).toEqual([2, 1]);
    await say(a, bob, 'three');
    expect(await seqsOf(bob)).toEqual([3]);
    const view = (await bob.client.get('/v1/im/conversation')).body.data.conversationList[
      conversationId
    ];
    expect(view).toMatchObject({ clearSeq: 2, unread: 1 });
    const synced = (
      await bobWs.call('conversation.sync', {
        conversations: { [conversationId]: { seq: 0, modSeq: 0 } },
      })
    ).conversations[conversationId];
    expect(synced.messages.map((m: { seq: number }) => m.seq)).toEqual([3]);
    // Cleared messages cannot be changed by the one who cleared them.
    expect(
      await errorOf(bobWs, 'message.react', {
        conversationId,
        msgId: m2.msgId,
        emoji: '👍',
        add: true,
      }),
    ).toBe(400005);
    expect(await errorOf(stranger, 'conversation.clear', { conversationId })).toBe(400003);
  });

  it('replies carry a snapshot of the quoted message that follows its recall', async () => {
    const { alice, bob, a, b, conversationId, say } = await pair();
    const quoted = await say(a, bob, 'x'.repeat(150));
    const reply = await say(b, alice, 'yes', { replyTo: quoted.msgId });
    expect(reply.replyTo).toEqual({
      msgId: quoted.msgId,
      sendId: quoted.sendId,
      mType: 0,
      excerpt: 'x'.repeat(100),
    });
    await a.call('message.revoke', { conversationId, msgId: quoted.msgId });
    const followed = await a.waitFor(isChange(reply.msgId));
    expect(followed.data.replyTo).toEqual({
      msgId: quoted.msgId,
      sendId: quoted.sendId,
      mType: 0,
      excerpt: '',
      revoked: true,
    });
    expect(
      await errorOf(a, 'conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        msg: { mType: 0, content: 'to a recalled one' },
        replyTo: quoted.msgId,
      }),
    ).toBe(400106);

    // A message of another conversation cannot be quoted.
    const other = await pair();
    const elsewhere = await other.say(other.a, other.bob, 'elsewhere');
    expect(
      await errorOf(a, 'conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        msg: { mType: 0, content: 'quote' },
        replyTo: elsewhere.msgId,
      }),
    ).toBe(400107);
  });

  it('mentions members (managers may mention all); mentioned until read; refusals', async () => {
    const [owner, m1, m2] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const groupId = await createGroupWith(owner, [m1, m2]);
    const outsider = await createUser(t.client);
    const [o, w1] = [await connect(owner), await connect(m1)];
    const chat = (ws: WsClient, extra: Record<string, unknown>) =>
      ws.request('conversation.chat', {
        chatType: 1,
        recvId: groupId,
        msg: { mType: 0, content: '@you' },
        ...extra,
      });
    const sent = await chat(w1, { atUserIds: [m2.id] });
    expect(sent.data.atUserIds).toEqual([m2.id]);
    const view = async (user: RegisteredUser) =>
      (await user.client.get('/v1/im/conversation')).body.data.conversationList[groupId];
    expect(await view(m2)).toMatchObject({ mentioned: true });
    expect(await view(owner)).toMatchObject({ mentioned: false });
    await m2.client.put('/v1/im/conversation', {
      conversationList: { [groupId]: { readSeq: sent.data.seq } },
    });
    expect(await view(m2)).toMatchObject({ mentioned: false });

    expect((await chat(w1, { atAll: true })).data.code).toBe(400110);
    expect((await chat(w1, { atUserIds: [outsider.id] })).data.code).toBe(400109);
    const all = await chat(o, { atAll: true });
    expect(all.data.atAll).toBe(true);
    expect(await view(m1)).toMatchObject({ mentioned: true });
    expect(await view(m2)).toMatchObject({ mentioned: true });

    const { bob, a } = await pair();
    const single = await a.request('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      msg: { mType: 0, content: 'hi' },
      atUserIds: [bob.id],
    });
    expect(single.data.code).toBe(400111);
  });

  it('accepts conversation.markRead as conversation.markChat', async () => {
    const { bob, a, conversationId, say } = await pair();
    await say(a, bob, 'one');
    const bobWs = await connect(bob);
    expect(await bobWs.call('conversation.markRead', { conversationId, readSeq: 1 })).toEqual({
      readSeq: 1,
    });
  });

  it('relays typing to the other participant only, rate-limited per socket', async () => {
    const { alice, bob, a, b, conversationId, say } = await pair();
    await say(a, bob, 'first');
    const a2 = await connect(alice);
    expect(await a.call('conversation.typing', { conversationId, typing: true })).toEqual({});
    const relayed = await b.waitFor((f) => f.method === 'conversation.typing');
    expect(relayed.data).toEqual({ conversationId, userId: alice.id, typing: true });
    expect(await errorOf(a, 'conversation.typing', { conversationId, typing: true })).toBe(400112);
    await a.call('conversation.typing', { conversationId, typing: false });
    await b.waitFor((f) => f.method === 'conversation.typing' && f.data.typing === false);
    // Never to the typer's own devices, never stored.
    await new Promise((r) => setTimeout(r, 100));
    expect(a2.pushes('conversation.typing')).toEqual([]);
    const stranger = await connect(await createUser(t.client));
    expect(await errorOf(stranger, 'conversation.typing', { conversationId, typing: true })).toBe(
      400003,
    );
  });

  it('pins, mutes, hides per user; GET lists pinned first; other devices hear it', async () => {
    const { alice, bob, a, conversationId, say } = await pair();
    await say(a, bob, 'hello');
    const other = await pair();
    await other.say(other.a, other.bob, 'newer');
    const aliceOther = await connect(alice);
    const put = await alice.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { pinned: true, muted: true } },
    });
    expect(put.status).toBe(200);
    const update = await aliceOther.waitFor(
      (f) => f.method === 'conversation.updated' && f.data.pinned === true,
    );
    expect(update.data).toEqual({
      conversationId,
      pinned: true,
      muted: true,
      isShow: true,
      readSeq: 1,
      clearSeq: 0,
    });
    const list = (await alice.client.get('/v1/im/conversation')).body.data.conversationList;
    expect(Object.keys(list)[0]).toBe(conversationId);
    expect(list[conversationId]).toMatchObject({ pinned: true, muted: true });
    const bobView = (await bob.client.get('/v1/im/conversation')).body.data.conversationList;
    expect(bobView[conversationId]).toMatchObject({ pinned: false, muted: false });

    // DELETE hides and clears for me; a new message shows it again.
    const del = await alice.client.delete('/v1/im/conversation', { query: { conversationId } });
    expect(del.status).toBe(200);
    const hidden = (await alice.client.get('/v1/im/conversation')).body.data.conversationList[
      conversationId
    ];
    expect(hidden).toMatchObject({ isShow: false, clearSeq: 1, msg: null });
    const bobWs = await connect(bob);
    await bobWs.call('conversation.chat', {
      chatType: 2,
      recvId: alice.id,
      msg: { mType: 0, content: 'back' },
    });
    const shown = (await alice.client.get('/v1/im/conversation')).body.data.conversationList[
      conversationId
    ];
    expect(shown).toMatchObject({ isShow: true, clearSeq: 1, msg: { seq: 2 } });

    // Unauthenticated, not a participant, malformed.
    expect(
      (await t.client.delete('/v1/im/conversation', { query: { conversationId } })).status,
    ).toBe(401);
    const stranger = await createUser(t.client);
    const denied = await stranger.client.delete('/v1/im/conversation', {
      query: { conversationId },
    });
    expect(denied.body.code).toBe(400003);
    expect((await alice.client.delete('/v1/im/conversation')).status).toBe(400);
    const badPin = await alice.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { pinned: 'yes' } },
    });
    expect(badPin.status).toBe(400);
    const strangerPin = await stranger.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { pinned: true } },
    });
    expect(strangerPin.body.code).toBe(400003);
  });
});
