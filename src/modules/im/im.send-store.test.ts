import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainEventSchemas } from '../../catalogue/domain-events.js';
import { EventRecorder } from '../../events/event-recorder.js';
import { newId } from '../../shared/ids.js';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser } from '../../../test/support/factories.js';
import { befriend } from '../../../test/support/social.js';
import { startTestApp, testConfig, type TestApp } from '../../../test/support/test-app.js';
import { groupCommitFor } from '../../adapters/storage/group-commit.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import { WsClient } from '../../../test/support/ws-client.js';
import { ConversationRepository } from './conversation.repository.js';
import { ChatType, singleConversationId } from './im.entity.js';
import { MessageRepository } from './message.repository.js';
import { messageSentPayload, pairSendStore, type PairMessage } from './pair-send.js';

/**
 * The single-chat send path (one statement on PostgreSQL, a few elsewhere) keeps
 * DESIGN.md §2 on every engine: dense seqs, a retry takes no seq, the outbox row in
 * the same transaction, the sender's read position moved, both rows on the first
 * message.
 */
/** A conversation's stored seqs, in order. */
async function storedSeqs(db: Kysely<Database>, conversationId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('messages')
    .select('seq')
    .where('conversationId', '=', conversationId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => Number(r.seq));
}

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

/**
 * PostgreSQL's group commit keeps several batches in flight, keyed by conversation
 * (groupCommitFor): under many conversations sent to at once, with slow units holding
 * batches open, seqs stay dense, every conversation's messages commit in order, and
 * no batch fails (no deadlock between batches in flight, no unit run twice).
 */
describe.runIf(STORAGES.includes('postgres'))(
  'sends in batches in flight at once on postgres',
  () => {
    let storage: Storage | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    afterAll(async () => {
      await storage?.close();
      await cleanup?.();
    });

    it('keeps seqs dense on many conversations under a mixed load, without deadlocks', async () => {
      const made = testConfig({ storage: 'postgres' });
      cleanup = made.cleanup;
      storage = openStorage(made.config, MIGRATIONS);
      await storage.migrate();
      const { db } = storage;
      const committer = groupCommitFor('postgres', db)!;
      const events = new EventRecorder({
        clock: Date.now,
        source: 'test',
        schemas: DomainEventSchemas,
      });
      const conversations = new ConversationRepository(db);
      const messages = new MessageRepository(db);
      const pairs = pairSendStore(db, { conversations, messages, events });
      const users = Array.from({ length: 8 }, () => newId());
      // Every pair of the 8 users (28 single chats) and 4 groups of all 8.
      const singles = users.flatMap((a, i) => users.slice(i + 1).map((b) => [a, b] as const));
      const groups = Array.from({ length: 4 }, () => `g${newId()}`);
      for (const id of groups) {
        await conversations.ensureMembers(
          db,
          users.map((userId) => ({
            conversationId: id,
            userId,
            chatType: ChatType.group,
            targetId: id,
            joinSeq: 0,
          })),
          1,
        );
      }
      const ran = new Map<string, number>();
      const batches = new Map<string, { from: number; to: number }>();
      const send = (n: number) => {
        const msgId = newId();
        const inGroup = n % 5 === 0;
        const [a, b] = singles[n % singles.length]!;
        const [sendId, recvId] = n % 2 === 0 ? [a, b] : [b, a];
        const conversationId = inGroup ? groups[n % groups.length]! : singleConversationId(a, b);
        const draft: PairMessage = {
          msgId,
          conversationId,
          chatType: inGroup ? ChatType.group : ChatType.single,
          sendId,
          recvId: inGroup ? conversationId : recvId,
          sendTime: n,
          mType: 0,
          content: `m${n}`,
          clientMsgId: `c${n}`,
          modSeq: 0,
        };
        let txid = '';
        let from = 0;
        return committer
          .run(async (trx) => {
            ran.set(msgId, (ran.get(msgId) ?? 0) + 1);
            from = performance.now();
            txid = (await sql<{ id: string }>`select txid_current()::text as id`.execute(trx))
              .rows[0]!.id;
            let seq: number;
            if (inGroup) {
              seq = await conversations.takeNextSeq(
                trx,
                { id: conversationId, chatType: ChatType.group },
                msgId,
                n,
              );
              await messages.insert(trx, { ...draft, seq });
              await conversations.showAll(trx, conversationId, n);
              await events.record(
                trx,
                'message-sent',
                conversationId,
                messageSentPayload({ ...draft, seq }),
              );
            } else {
              seq = (await pairs.store(trx, draft)).seq;
            }
            // Some hold their batch open after taking their seq, as a slow commit would.
            if (n % 17 === 0) await sql`select pg_sleep(0.05)`.execute(trx);
            return seq;
          }, conversationId)
          .then((seq) => {
            const batch = batches.get(txid) ?? { from, to: 0 };
            batches.set(txid, { from: Math.min(batch.from, from), to: performance.now() });
            return { conversationId, seq, n };
          });
      };
      // 20 waves of 20 sends, 5 ms apart: each wave's batch starts while slow ones are open.
      const sent: Array<Promise<{ conversationId: string; seq: number; n: number }>> = [];
      for (let wave = 0; wave < 20; wave += 1) {
        for (let i = 0; i < 20; i += 1) sent.push(send(wave * 20 + i));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const stored = await Promise.all(sent);
      // No batch failed: every unit ran once (a deadlock or a failed batch runs them again).
      expect([...ran.values()].every((runs) => runs === 1)).toBe(true);
      expect(ran.size).toBe(400);
      // Batches were in flight at once.
      const spans = [...batches.values()].sort((x, y) => x.from - y.from);
      expect(spans.some((span, i) => i > 0 && span.from < spans[i - 1]!.to)).toBe(true);
      // Per conversation: seqs 1..n, in the order the sends were made.
      const byConversation = new Map<string, number[]>();
      for (const { conversationId, seq } of stored.sort((x, y) => x.n - y.n)) {
        byConversation.set(conversationId, [...(byConversation.get(conversationId) ?? []), seq]);
      }
      for (const [conversationId, seqs] of byConversation) {
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        expect(await storedSeqs(db, conversationId)).toEqual(seqs);
        expect((await conversations.counters(conversationId)).maxSeq).toBe(seqs.length);
      }
      // An outbox row per message, in the same transactions.
      const outbox = await db.selectFrom('outboxEvents').select('partitionKey').execute();
      expect(outbox).toHaveLength(400);
      // A retry of a stored send (same conversation, same clientMsgId) fails alone and
      // takes no seq, beside new sends to the same conversations.
      const [a, b] = singles[0]!;
      const conversationId = singleConversationId(a, b);
      const before = (await conversations.counters(conversationId)).maxSeq;
      const retried = await Promise.allSettled([
        committer.run(
          (trx) =>
            pairs.store(trx, {
              msgId: newId(),
              conversationId,
              chatType: ChatType.single,
              sendId: a,
              recvId: b,
              sendTime: 1,
              mType: 0,
              content: 'again',
              clientMsgId: 'c0',
              modSeq: 0,
            }),
          conversationId,
        ),
        // Ten more to the same conversation (n a multiple of 28, not of 5: no group).
        ...[16, 17, 18, 19, 21, 22, 23, 24, 26, 27].map((k) => send(k * singles.length)),
      ]);
      expect(retried[0].status).toBe('rejected');
      expect(retried.slice(1).every((r) => r.status === 'fulfilled')).toBe(true);
      expect(await storedSeqs(db, conversationId)).toEqual(
        Array.from({ length: before + 10 }, (_, i) => i + 1),
      );
    });
  },
);
