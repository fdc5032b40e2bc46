import { describe, expect, it, vi } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { Frame } from '../../../test/support/ws-client.js';
import { MessageRepository } from './message.repository.js';

const updated = (conversationId: string, readSeq: number) => (f: Frame) =>
  f.frameType === 0 &&
  f.method === 'conversation.updated' &&
  f.data?.conversationId === conversationId &&
  f.data?.readSeq === readSeq;
const receipt = (conversationId: string) => (f: Frame) =>
  f.frameType === 0 &&
  f.method === 'push' &&
  f.data?.contentType === 1 &&
  f.data?.conversationId === conversationId;
const chat = (conversationId: string, seq: number) => (f: Frame) =>
  f.method === 'push' &&
  f.data?.contentType === 0 &&
  f.data?.conversationId === conversationId &&
  f.data?.seq === seq;

describe.each(STORAGES)('sending marks read for the sender on %s', (storage) => {
  const { t, connect } = suiteApp({ storage });

  const say = (content: string, extra: Record<string, unknown> = {}) => ({
    msg: { mType: 0, content },
    ...extra,
  });
  async function entry(user: RegisteredUser, conversationId: string) {
    const res = await user.client.get('/v1/im/conversation');
    return res.body.data.conversationList[conversationId] as { readSeq: number; unread: number };
  }

  it('a reply clears the sender’s badge, tells its other devices and the peer', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const conversationId = [alice.id, bob.id].sort().join('_');
    const b = await connect(bob);
    for (const n of [1, 2, 3]) {
      await b.call('conversation.chat', { chatType: 2, recvId: alice.id, ...say(`m${n}`) });
    }
    expect(await entry(alice, conversationId)).toMatchObject({ readSeq: 0, unread: 3 });

    const [phone, laptop] = [await connect(alice), await connect(alice)];
    const sent = await phone.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      ...say('reply', { clientMsgId: 'reply-1' }),
    });
    expect(sent.seq).toBe(4);
    expect(await entry(alice, conversationId)).toMatchObject({ readSeq: 4, unread: 0 });
    // Bob's own count is untouched: he has not read the reply.
    expect(await entry(bob, conversationId)).toMatchObject({ readSeq: 3, unread: 1 });

    // The other device: the message, then the new read state.
    await laptop.waitFor(chat(conversationId, 4));
    const change = await laptop.waitFor(updated(conversationId, 4));
    expect(change).toMatchObject({
      method: 'conversation.updated',
      data: { conversationId, pinned: false, muted: false, isShow: true, readSeq: 4, clearSeq: 0 },
    });
    expect(laptop.frames.indexOf(change)).toBeGreaterThan(
      laptop.frames.findIndex(chat(conversationId, 4)),
    );
    // The peer learns that its three messages were read (the reply passed over them).
    const read = await b.waitFor(receipt(conversationId));
    expect(read.data).toMatchObject({ sendId: alice.id, readSeq: 4 });

    // A reply right after (nothing skipped): the other device hears, the peer gets no receipt.
    await phone.call('conversation.chat', { chatType: 2, recvId: bob.id, ...say('again') });
    await laptop.waitFor(updated(conversationId, 5));
    await b.waitFor(chat(conversationId, 5));
    await b.ready();
    expect(b.frames.filter(receipt(conversationId))).toHaveLength(1);
    // The sending device learns from its answer; it is not told again.
    expect(phone.frames.filter((f) => f.method === 'conversation.updated')).toEqual([]);
  });

  it('a single chat’s reply sends its receipt without asking the store what it passed', async () => {
    // Only the two parties post in a single chat, never a notice, and a sender's own
    // messages all lie at or below its read position: whatever a reply passes over is
    // the peer's (ChatService.readOwn). On PostgreSQL the check was a statement after
    // the batch's COMMIT for every answer.
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const conversationId = [alice.id, bob.id].sort().join('_');
    const [a, b] = [await connect(alice), await connect(bob)];
    await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...say('q1') });
    const checks = vi.spyOn(MessageRepository.prototype, 'hasUnreadOf');
    try {
      for (const n of [1, 2]) {
        await b.call('conversation.chat', { chatType: 2, recvId: alice.id, ...say(`a${n}`) });
      }
      await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...say('q2') });
      const read = await b.waitFor(receipt(conversationId));
      expect(read.data).toMatchObject({ sendId: alice.id, readSeq: 4 });
      // Bob's first answer passed alice's question: a receipt for her too.
      const first = await a.waitFor(receipt(conversationId));
      expect(first.data).toMatchObject({ sendId: bob.id, readSeq: 2 });
      // Bob's second answer passed nothing: no receipt.
      await a.waitFor(chat(conversationId, 3));
      await a.ready();
      expect(a.frames.filter(receipt(conversationId))).toHaveLength(1);
      expect(checks).not.toHaveBeenCalled();
    } finally {
      checks.mockRestore();
    }
  });

  it('a reply’s push and its read receipt reach the peer’s socket in one write', async () => {
    // Both go to the same devices right after the store (ChatService.post): written one
    // after the other, each frame was a system call of its own.
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const conversationId = [alice.id, bob.id].sort().join('_');
    const [a, b] = [await connect(alice), await connect(bob)];
    await a.call('conversation.chat', { chatType: 2, recvId: bob.id, ...say('q1') });
    await b.waitFor(chat(conversationId, 1));
    const [served] = t.app.connections.forUser(alice.id);
    // The frames of each write the socket hands to the kernel, as text. Other frames may
    // reach alice's socket alone meanwhile (seen once in CI on a busy machine), so the
    // test looks for the write that carries the receipt.
    const writes: string[][] = [];
    const wire = (served!.socket as unknown as { _socket: Record<string, unknown> })._socket;
    const write = wire._write as (...args: unknown[]) => void;
    const writev = wire._writev as (chunks: unknown[], ...rest: unknown[]) => void;
    const text = (chunk: unknown) => Buffer.from(chunk as Buffer).toString('utf8');
    wire._write = (chunk: unknown, ...rest: unknown[]) => {
      writes.push([text(chunk)]);
      write.apply(wire, [chunk, ...rest]);
    };
    wire._writev = (chunks: unknown[], ...rest: unknown[]) => {
      writes.push(chunks.map((c) => text((c as { chunk: unknown }).chunk)));
      writev.apply(wire, [chunks, ...rest]);
    };
    try {
      await b.call('conversation.chat', { chatType: 2, recvId: alice.id, ...say('a1') });
      await a.waitFor(chat(conversationId, 2));
      const read = await a.waitFor(receipt(conversationId));
      expect(read.data).toMatchObject({ sendId: bob.id, readSeq: 2 });
      const carrying = writes.filter((frames) => frames.some((f) => f.includes('"contentType":1')));
      expect(carrying).toHaveLength(1);
      // The push of bob's reply, then its receipt, in that one write.
      expect(carrying[0]).toHaveLength(2);
      expect(carrying[0]![0]).toContain('"a1"');
      expect(carrying[0]![1]).toContain('"contentType":1');
    } finally {
      delete wire._write;
      delete wire._writev;
    }
  });

  it('only ever moves forward: retrying an old send does not move the read position back', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const conversationId = [alice.id, bob.id].sort().join('_');
    const [a, b] = [await connect(alice), await connect(bob)];
    const first = await a.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      ...say('first', { clientMsgId: 'c-1' }),
    });
    await b.call('conversation.chat', { chatType: 2, recvId: alice.id, ...say('answer') });
    await a.call('conversation.markChat', { conversationId, readSeq: 2 });
    const retried = await a.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      ...say('first', { clientMsgId: 'c-1' }),
    });
    expect(retried.msgId).toBe(first.msgId);
    expect(await entry(alice, conversationId)).toMatchObject({ readSeq: 2, unread: 0 });
  });

  it('in a group: the sender’s unread is 0 and its other devices get the change', async () => {
    const [owner, carol, dave] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const groupId = await createGroupWith(owner, [carol, dave]);
    const d = await connect(dave);
    await d.call('conversation.chat', { chatType: 1, recvId: groupId, ...say('d1') });
    await d.call('conversation.chat', { chatType: 1, recvId: groupId, ...say('d2') });
    expect(await entry(carol, groupId)).toMatchObject({ unread: 2 });

    const [phone, laptop] = [await connect(carol), await connect(carol)];
    const sent = await phone.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      ...say('c1'),
    });
    expect(await entry(carol, groupId)).toMatchObject({ readSeq: sent.seq, unread: 0 });
    expect((await laptop.waitFor(updated(groupId, sent.seq))).data).toEqual({
      conversationId: groupId,
      pinned: false,
      muted: false,
      isShow: true,
      readSeq: sent.seq,
      clearSeq: 0,
    });
    // Dave's messages were passed over: the merged group receipt names carol.
    const merged = await d.waitFor(
      (f) => receipt(groupId)(f) && f.data.reads?.[carol.id] === sent.seq,
    );
    expect(merged.data.reads[carol.id]).toBe(sent.seq);
  });

  it('in a group: a sender who hid the group, or has no row in it yet, gets one shown and read', async () => {
    const [owner, carol, dave] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const groupId = await createGroupWith(owner, [carol, dave]);
    const [c, d] = [await connect(carol), await connect(dave)];
    await d.call('conversation.chat', { chatType: 1, recvId: groupId, ...say('d1') });
    // Hidden: the send shows it again and reads up to it.
    await carol.client.put('/v1/im/conversation', {
      conversationList: { [groupId]: { isShow: false } },
    });
    const first = await c.call('conversation.chat', { chatType: 1, recvId: groupId, ...say('c1') });
    expect(await entry(carol, groupId)).toMatchObject({ readSeq: first.seq, unread: 0 });
    const rowOf = (userId: string) =>
      t.app.storage.db
        .selectFrom('conversationMembers')
        .select(['isShow', 'readSeq', 'joinSeq'])
        .where('conversationId', '=', groupId)
        .where('userId', '=', userId)
        .executeTakeFirst();
    expect(await rowOf(carol.id)).toMatchObject({ isShow: 1, readSeq: first.seq });
    // No row (a member from before the conversation existed): the send makes it, read.
    await t.app.storage.db
      .deleteFrom('conversationMembers')
      .where('conversationId', '=', groupId)
      .where('userId', '=', dave.id)
      .execute();
    const second = await d.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      ...say('d2'),
    });
    expect(await rowOf(dave.id)).toMatchObject({
      isShow: 1,
      readSeq: second.seq,
      joinSeq: second.seq - 1,
    });
  });

  it('reading elsewhere reaches the other devices as conversation.updated too', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const conversationId = [alice.id, bob.id].sort().join('_');
    const b = await connect(bob);
    await b.call('conversation.chat', { chatType: 2, recvId: alice.id, ...say('hi') });
    const [phone, laptop] = [await connect(alice), await connect(alice)];
    await phone.call('conversation.markChat', { conversationId, readSeq: 1 });
    await laptop.waitFor(updated(conversationId, 1));
    const hidden = await alice.client.put('/v1/im/conversation', {
      conversationList: { [conversationId]: { isShow: false } },
    });
    expect(hidden.status).toBe(200);
    const change = await laptop.waitFor(
      (f) => f.method === 'conversation.updated' && f.data?.isShow === false,
    );
    expect(change.data).toMatchObject({ conversationId, readSeq: 1, isShow: false });
  });
});
