import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainEventSchemas } from '../../catalogue/domain-events.js';
import { EventRecorder } from '../../events/event-recorder.js';
import { newId } from '../../shared/ids.js';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser } from '../../../test/support/factories.js';
import { befriend } from '../../../test/support/social.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { WsClient } from '../../../test/support/ws-client.js';
import { ConversationRepository } from './conversation.repository.js';
import { ChatType, singleConversationId } from './im.entity.js';
import { MessageRepository } from './message.repository.js';
import { pairSendStore, type PairMessage } from './pair-send.js';

/**
 * The single-chat send path (one statement on PostgreSQL, a few elsewhere) keeps
 * DESIGN.md §2 on every engine: dense seqs, a retry takes no seq, the outbox row in
 * the same transaction, the sender's read position moved, both rows on the first
 * message.
 */
describe.each(STORAGES)('storing a single chat message on %s', (storage) => {
  let t: TestApp;
  const sockets: WsClient[] = [];
  beforeAll(async () => {
    t = await startTestApp({ storage });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await t.close();
  });

  it('takes the seq, writes the message and its outbox row with that seq, and reads the pair as it was', async () => {
    const { db } = t.app.storage;
    const seen: Array<{ type: string; payload: unknown }> = [];
    const events = new EventRecorder({
      clock: Date.now,
      source: 'test',
      schemas: DomainEventSchemas,
      onRecorded: (event) => seen.push(event),
    });
    const conversations = new ConversationRepository(db);
    const store = pairSendStore(db, {
      conversations,
      messages: new MessageRepository(db),
      events,
    });
    const [a, b] = [newId(), newId()];
    const conversationId = singleConversationId(a, b);
    const draft = (content: string): PairMessage => ({
      msgId: newId(),
      conversationId,
      chatType: ChatType.single,
      sendId: a,
      recvId: b,
      sendTime: 1_000,
      mType: 0,
      content,
      clientMsgId: null,
      modSeq: 0,
    });
    await db.transaction().execute(async (trx) => {
      const first = await store.store(trx, draft('one'));
      // No rows yet: nothing to read or move (the caller creates them).
      expect(first).toEqual({ seq: 1, before: [] });
      await conversations.ensureMembers(
        trx,
        [
          { conversationId, userId: a, chatType: ChatType.single, targetId: b, joinSeq: 0 },
          { conversationId, userId: b, chatType: ChatType.single, targetId: a, joinSeq: 0 },
        ],
        1_000,
        { show: true },
      );
      const second = draft('two');
      const stored = await store.store(trx, second);
      expect(stored.seq).toBe(2);
      // As they were before the statement: the sender's read position not moved yet.
      expect(stored.before.map((r) => [r.userId, r.readSeq, r.isShow]).sort()).toEqual(
        [
          [a, 0, 1],
          [b, 0, 1],
        ].sort(),
      );
      expect((await conversations.member(conversationId, a, trx))?.readSeq).toBe(2);
      expect((await conversations.member(conversationId, b, trx))?.readSeq).toBe(0);
      const message = await trx
        .selectFrom('messages')
        .select(['seq', 'content', 'sendId', 'recvId'])
        .where('id', '=', second.msgId)
        .executeTakeFirstOrThrow();
      expect(message).toEqual({ seq: 2, content: 'two', sendId: a, recvId: b });
      // Read inside the transaction: the relay cannot have published (or removed) them.
      const outbox = await trx
        .selectFrom('outboxEvents')
        .select(['type', 'partitionKey', 'envelope'])
        .where('partitionKey', '=', conversationId)
        .orderBy('position')
        .execute();
      expect(outbox.map((r) => [r.type, JSON.parse(r.envelope).payload.seq])).toEqual([
        ['message-sent', 1],
        ['message-sent', 2],
      ]);
      expect(JSON.parse(outbox[1]!.envelope).payload).toEqual({
        msgId: second.msgId,
        conversationId,
        chatType: ChatType.single,
        seq: 2,
        sendId: a,
        recvId: b,
        mType: 0,
        sendTime: 1_000,
      });
    });
    expect(seen.map((e) => [e.type, (e.payload as { seq: number }).seq])).toEqual([
      ['message-sent', 1],
      ['message-sent', 2],
    ]);
  });

  it('keeps seqs dense and takes none for retries, within one batch and across batches', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const connect = async (token: string) => {
      const client = await WsClient.connect(t.url, { token });
      sockets.push(client);
      return client.ready();
    };
    const [a, b] = [await connect(alice.token), await connect(bob.token)];
    const send = (from: WsClient, recvId: string, clientMsgId: string) =>
      from.call('conversation.chat', {
        chatType: 2,
        recvId,
        clientMsgId,
        msg: { mType: 0, content: clientMsgId },
      });
    // Sent together, so they share a group commit batch: both directions, and each
    // of alice's first three sends twice over.
    const wave = (n: number) =>
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0 ? send(a, bob.id, `a-${n}-${i % 6}`) : send(b, alice.id, `b-${n}-${i}`),
      );
    const first = await Promise.all(wave(1));
    const second = await Promise.all([...wave(2), send(a, bob.id, 'a-1-0')]);
    const answers = [...first, ...second];
    const byClientMsgId = new Map<string, unknown>();
    for (const answer of answers) {
      const previous = byClientMsgId.get(answer.clientMsgId);
      if (previous) expect(answer).toEqual(previous);
      byClientMsgId.set(answer.clientMsgId, answer);
    }
    const conversationId = singleConversationId(alice.id, bob.id);
    const { db } = t.app.storage;
    const rows = await db
      .selectFrom('messages')
      .select(['seq', 'sendId', 'clientMsgId'])
      .where('conversationId', '=', conversationId)
      .orderBy('seq')
      .execute();
    // 2 waves × (3 distinct of alice + 6 of bob): one row each, seqs 1..18.
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.clientMsgId)).size).toBe(18);
    const { maxSeq } = await new ConversationRepository(db).counters(conversationId);
    expect(maxSeq).toBe(18);
    const members = await db
      .selectFrom('conversationMembers')
      .select(['userId', 'readSeq', 'isShow'])
      .where('conversationId', '=', conversationId)
      .execute();
    const lastOf = (userId: string) =>
      Math.max(...rows.filter((r) => r.sendId === userId).map((r) => r.seq));
    expect(
      members.sort((x, y) => x.userId.localeCompare(y.userId)).map((m) => [m.userId, m.readSeq]),
    ).toEqual(
      [
        [alice.id, lastOf(alice.id)],
        [bob.id, lastOf(bob.id)],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(members.every((m) => m.isShow === 1)).toBe(true);
  });
});
