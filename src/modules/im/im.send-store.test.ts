import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainEventSchemas } from '../../catalogue/domain-events.js';
import { EventRecorder } from '../../events/event-recorder.js';
import { newId } from '../../shared/ids.js';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser } from '../../../test/support/factories.js';
import { befriend } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import { testConfig } from '../../../test/support/test-app.js';
import { groupCommitFor, PipelinedGroupCommitter } from '../../adapters/storage/group-commit.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import type { WsClient } from '../../../test/support/ws-client.js';
import type { EventMessage } from '../../adapters/bus/event-message.js';
import { loggingPostgres } from '../../../test/support/logging-db.js';
import { ConversationRepository } from './conversation.repository.js';
import { ChatType, singleConversationId, type Message } from './im.entity.js';
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

/** A plain single-chat message from `a` to `b`, not stored yet. */
function singleDraft(a: string, b: string, content: string): PairMessage {
  return {
    msgId: newId(),
    conversationId: singleConversationId(a, b),
    chatType: ChatType.single,
    sendId: a,
    recvId: b,
    sendTime: 1_000,
    mType: 0,
    content,
    clientMsgId: null,
    modSeq: 0,
  };
}

describe.each(STORAGES)('storing a single chat message on %s', (storage) => {
  const { t, connect } = suiteApp({ storage });

  it('takes the seq, writes the message and its outbox row with that seq, and reads the pair as it was', async () => {
    const { db } = t.app.storage;
    const seen: Array<{ type: string; payload: unknown }> = [];
    const texts: string[] = [];
    const events = new EventRecorder({
      clock: Date.now,
      source: 'test',
      schemas: DomainEventSchemas,
      onRecorded: (event, text) => {
        seen.push(event);
        texts.push(text);
      },
    });
    let envelopes: string[] = [];
    const conversations = new ConversationRepository(db);
    const store = pairSendStore(db, {
      conversations,
      messages: new MessageRepository(db),
      events,
    });
    const [a, b] = [newId(), newId()];
    const conversationId = singleConversationId(a, b);
    const draft = (content: string) => singleDraft(a, b, content);
    await db.transaction().execute(async (trx) => {
      const first = await store.store(trx, draft('one'));
      // No rows yet: nothing to read or move (the caller creates them).
      expect(first).toEqual({
        seq: 1,
        senderRow: false,
        senderShown: false,
        recipientShown: false,
        readBefore: undefined,
      });
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
      // As they were before the statement: the sender's read position not moved yet.
      expect(stored).toEqual({
        seq: 2,
        senderRow: true,
        senderShown: true,
        recipientShown: true,
        readBefore: { conversationId, readSeq: 0, isShow: 1, pinned: 0, muted: 0, clearSeq: 0 },
      });
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
      envelopes = outbox.map((r) => r.envelope);
    });
    expect(seen.map((e) => [e.type, (e.payload as { seq: number }).seq])).toEqual([
      ['message-sent', 1],
      ['message-sent', 2],
    ]);
    // The listener is told the text its row holds (the statement wrote the seq into it),
    // which is the event's own JSON: what the relay hands a JSON broker to send as is.
    expect(texts).toEqual(envelopes);
    expect(seen.map((e) => JSON.stringify(e))).toEqual(envelopes);
  });

  it('reads only what the send needs of the rows as they were (synchronously on sqlite)', async () => {
    const { db } = t.app.storage;
    const conversations = new ConversationRepository(db);
    const store = pairSendStore(db, {
      conversations,
      messages: new MessageRepository(db),
      events: new EventRecorder({ clock: Date.now, source: 'test', schemas: DomainEventSchemas }),
    });
    const [a, b] = [newId(), newId()];
    const conversationId = singleConversationId(a, b);
    const message = (content: string): Message => ({ ...singleDraft(a, b, content), seq: 0 });
    // storeNow where the engine runs it (SQLite), store elsewhere: the same answer.
    const storeOne = async (trx: Kysely<Database>, m: Message) => {
      const now = store.storeNow?.(trx, m);
      if (now) return now;
      const { seq, ...rest } = await store.store(trx, m);
      m.seq = seq;
      return rest;
    };
    // Outside a transaction nothing runs synchronously: nothing done.
    expect(store.storeNow?.(db, message('none'))).toBeUndefined();
    await db.transaction().execute(async (trx) => {
      const first = message('one');
      // No rows yet: nothing to move, nothing shown (the caller creates them).
      expect(await storeOne(trx, first)).toEqual({
        senderRow: false,
        senderShown: false,
        recipientShown: false,
        readBefore: undefined,
      });
      expect(first.seq).toBe(1);
      await conversations.ensureMembers(
        trx,
        [
          { conversationId, userId: a, chatType: ChatType.single, targetId: b, joinSeq: 0 },
          { conversationId, userId: b, chatType: ChatType.single, targetId: a, joinSeq: 0 },
        ],
        1_000,
      );
      const setRow = (
        userId: string,
        values: {
          pinned?: number;
          muted?: number;
          clearSeq?: number;
          isShow?: number;
          readSeq?: number;
        },
      ) =>
        trx
          .updateTable('conversationMembers')
          .set(values)
          .where('conversationId', '=', conversationId)
          .where('userId', '=', userId)
          .execute();
      // The sender's settings off their defaults, the recipient's row hidden.
      await setRow(a, { pinned: 1, muted: 1, clearSeq: 1 });
      await setRow(b, { isShow: 0 });
      const second = message('two');
      expect(await storeOne(trx, second)).toEqual({
        senderRow: true,
        senderShown: true,
        recipientShown: false,
        readBefore: { conversationId, readSeq: 0, isShow: 1, pinned: 1, muted: 1, clearSeq: 1 },
      });
      expect(second.seq).toBe(2);
      expect((await conversations.member(conversationId, a, trx))?.readSeq).toBe(2);
      // The read position already there: nothing moves, nothing to tell; whether the
      // sender's row shows the conversation is still read, shown or hidden.
      await conversations.advanceRead(trx, conversationId, a, 10, 1_000);
      const third = message('three');
      expect(await storeOne(trx, third)).toEqual({
        senderRow: true,
        senderShown: true,
        recipientShown: false,
        readBefore: undefined,
      });
      expect(third.seq).toBe(3);
      await setRow(a, { isShow: 0 });
      await setRow(b, { isShow: 1 });
      const fourth = message('four');
      expect(await storeOne(trx, fourth)).toMatchObject({
        senderRow: true,
        senderShown: false,
        recipientShown: true,
        readBefore: undefined,
      });
      // The sender's row hidden, its read position behind: it moves, and says hidden.
      await setRow(a, { readSeq: 1 });
      const fifth = message('five');
      expect(await storeOne(trx, fifth)).toEqual({
        senderRow: true,
        senderShown: false,
        recipientShown: true,
        readBefore: { conversationId, readSeq: 1, isShow: 1, pinned: 1, muted: 1, clearSeq: 1 },
      });
      expect((await conversations.member(conversationId, a, trx))?.readSeq).toBe(5);
      expect(await storedSeqs(trx, conversationId)).toEqual([1, 2, 3, 4, 5]);
      const outbox = await trx
        .selectFrom('outboxEvents')
        .select('envelope')
        .where('partitionKey', '=', conversationId)
        .orderBy('position')
        .execute();
      expect(outbox.map((r) => JSON.parse(r.envelope).payload.seq)).toEqual([1, 2, 3, 4, 5]);
    });
  });

  it('keeps seqs dense and takes none for retries, within one batch and across batches', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const [a, b] = [await connect(alice), await connect(bob)];
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
 * PostgreSQL's group commit with several batches in flight, keyed by conversation
 * (`inFlight` > 1; groupCommitFor keeps one): under many conversations sent to at once, with slow units holding
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
      const committer = new PipelinedGroupCommitter(db, { inFlight: 3, overlapAfterMs: 3 });
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

/**
 * On PostgreSQL the single-chat sends of a group commit batch are stored in one
 * statement (PostgresPairSendStore): each send still gets what a statement of its own
 * gave it (its seq, both rows as they were before it), the batch's outbox rows carry
 * the right seqs, a retry in the batch takes no seq, and two processes' batches lock
 * conversations in one order.
 */
describe.runIf(STORAGES.includes('postgres'))(
  "a batch's single-chat sends in one statement on postgres",
  () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    let db: Kysely<Database>;
    let conversations: ConversationRepository;
    let pairs: ReturnType<typeof pairSendStore>;
    const recorded: Array<{ msgId: string; seq: number }> = [];
    let config: ReturnType<typeof testConfig>['config'];
    beforeAll(async () => {
      const made = testConfig({ storage: 'postgres' });
      config = made.config;
      cleanup = made.cleanup;
      storage = openStorage(made.config, MIGRATIONS);
      await storage.migrate();
      db = storage.db;
      conversations = new ConversationRepository(db);
      const events = new EventRecorder({
        clock: Date.now,
        source: 'test',
        schemas: DomainEventSchemas,
        onRecorded: (event) => recorded.push(event.payload as { msgId: string; seq: number }),
      });
      pairs = pairSendStore(db, { conversations, messages: new MessageRepository(db), events });
    });
    afterAll(async () => {
      await storage.close();
      await cleanup();
    });

    /** Statements run through each transaction handle given to `counted`. */
    const statements = new WeakMap<object, number>();
    const handles = new WeakMap<object, Kysely<Database>>();
    /** `trx`, counting the statements run through it (one handle per transaction). */
    const counted = (trx: Kysely<Database>): Kysely<Database> => {
      let handle = handles.get(trx);
      if (!handle) {
        handle = new Proxy(trx, {
          get(target, prop) {
            if (prop === 'executeQuery') {
              return (query: Parameters<typeof target.executeQuery>[0]) => {
                statements.set(trx, (statements.get(trx) ?? 0) + 1);
                return target.executeQuery(query);
              };
            }
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        handles.set(trx, handle);
      }
      return handle;
    };
    let n = 0;
    const draft = (sendId: string, recvId: string, clientMsgId?: string): PairMessage => {
      n += 1;
      return {
        msgId: newId(),
        conversationId: singleConversationId(sendId, recvId),
        chatType: ChatType.single,
        sendId,
        recvId,
        sendTime: 1_000 + n,
        mType: 0,
        content: `m${n} "quoted" {braced}, \\ back`,
        clientMsgId: clientMsgId ?? `c${n}`,
        modSeq: 0,
      };
    };
    const pair = (conversationId: string, a: string, b: string) =>
      conversations.ensureMembers(
        db,
        [
          { conversationId, userId: a, chatType: ChatType.single, targetId: b, joinSeq: 0 },
          { conversationId, userId: b, chatType: ChatType.single, targetId: a, joinSeq: 0 },
        ],
        1,
        { show: true },
      );
    /** Each batch's statement count, by the transaction's handle. */
    const sendAll = (
      committer: ReturnType<typeof groupCommitFor> & object,
      drafts: PairMessage[],
      runs?: Map<string, number>,
    ) =>
      Promise.allSettled(
        drafts.map((d) =>
          committer.run(async (trx) => {
            runs?.set(d.msgId, (runs.get(d.msgId) ?? 0) + 1);
            const stored = await pairs.store(counted(trx), d);
            return { ...stored, statements: statements.get(trx) };
          }, d.conversationId),
        ),
      );
    const members = async (conversationId: string) =>
      (
        await db
          .selectFrom('conversationMembers')
          .select(['userId', 'readSeq', 'updatedAt'])
          .where('conversationId', '=', conversationId)
          .orderBy('userId')
          .execute()
      ).map((r) => [r.userId, Number(r.readSeq), Number(r.updatedAt)]);

    it('stores the sends of several conversations in one statement, as one statement each would', async () => {
      const [a, b, c] = [newId(), newId(), newId()].sort();
      const ab = singleConversationId(a!, b!);
      const ac = singleConversationId(a!, c!);
      await pair(ab, a!, b!);
      // Two messages stored before, each alone: a has read up to 2, b nothing.
      for (const d of [draft(a!, b!), draft(a!, b!)]) {
        await db.transaction().execute((trx) => pairs.store(trx, d));
      }
      // One batch: three to ab (both directions), the first two of ac (no rows yet).
      const batch = [draft(a!, b!), draft(b!, a!), draft(a!, c!), draft(a!, b!), draft(c!, a!)];
      const committer = groupCommitFor('postgres', db)!;
      const outcomes = await sendAll(committer, batch);
      const stored = outcomes.map((o) => {
        if (o.status === 'rejected') throw o.reason;
        return o.value;
      });
      // One statement for the five sends (no other statement ran through the handle).
      expect(stored.map((s) => s.statements)).toEqual([1, 1, 1, 1, 1]);
      expect(stored.map((s) => s.seq)).toEqual([3, 4, 1, 5, 2]);
      // Each send's rows as its own statement read them: the same sender's earlier
      // sends in the batch had moved its read position; ac had no rows.
      const shown = { senderRow: true, senderShown: true, recipientShown: true };
      const none = { senderRow: false, senderShown: false, recipientShown: false };
      const readFrom = (readSeq: number) => ({
        conversationId: ab,
        readSeq,
        isShow: 1,
        pinned: 0,
        muted: 0,
        clearSeq: 0,
      });
      expect(stored.map(({ statements: _, seq: __, ...rest }) => rest)).toEqual([
        { ...shown, readBefore: readFrom(2) },
        { ...shown, readBefore: readFrom(0) },
        { ...none, readBefore: undefined },
        { ...shown, readBefore: readFrom(3) },
        { ...none, readBefore: undefined },
      ]);
      expect(await storedSeqs(db, ab)).toEqual([1, 2, 3, 4, 5]);
      expect(await storedSeqs(db, ac)).toEqual([1, 2]);
      const messages = await db
        .selectFrom('messages')
        .select(['id', 'seq', 'content', 'clientMsgId', 'sendTime'])
        .where(
          'id',
          'in',
          batch.map((d) => d.msgId),
        )
        .execute();
      expect(batch.map((d) => messages.find((m) => m.id === d.msgId))).toEqual(
        batch.map((d, i) => ({
          id: d.msgId,
          seq: stored[i]!.seq,
          content: d.content,
          clientMsgId: d.clientMsgId,
          sendTime: d.sendTime,
        })),
      );
      // The read positions end at each sender's last message (its send time with it).
      expect(await members(ab)).toEqual([
        [a, 5, batch[3]!.sendTime],
        [b, 4, batch[1]!.sendTime],
      ]);
      expect(await members(ac)).toEqual([]);
      // Each conversation: its count of messages, its last message, created by the first.
      const counters = await db
        .selectFrom('conversations')
        .select(['id', 'maxSeq', 'lastMsgId', 'createdAt', 'updatedAt'])
        .where('id', 'in', [ab, ac])
        .orderBy('id')
        .execute();
      expect(counters.map((r) => [r.id, Number(r.maxSeq), r.lastMsgId])).toEqual(
        [
          [ab, 5, batch[3]!.msgId],
          [ac, 2, batch[4]!.msgId],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      );
      const acRow = counters.find((r) => r.id === ac)!;
      expect([Number(acRow.createdAt), Number(acRow.updatedAt)]).toEqual([
        batch[2]!.sendTime,
        batch[4]!.sendTime,
      ]);
      // The outbox envelopes carry each message's seq (and what the recorder heard).
      const outbox = await db
        .selectFrom('outboxEvents')
        .select(['type', 'partitionKey', 'envelope'])
        .where('partitionKey', 'in', [ab, ac])
        .orderBy('position')
        .execute();
      const envelopes = outbox.map((r) => ({
        type: r.type,
        key: r.partitionKey,
        payload: JSON.parse(r.envelope).payload,
      }));
      for (const [i, d] of batch.entries()) {
        expect(envelopes.filter((e) => e.payload.msgId === d.msgId)).toEqual([
          {
            type: 'message-sent',
            key: d.conversationId,
            payload: { ...messageSentPayload({ ...d, seq: stored[i]!.seq }) },
          },
        ]);
        expect(recorded.filter((r) => r.msgId === d.msgId).map((r) => r.seq)).toEqual([
          stored[i]!.seq,
        ]);
      }
      // Per conversation, the outbox rows in seq order.
      for (const id of [ab, ac]) {
        const seqs = envelopes.filter((e) => e.key === id).map((e) => e.payload.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    });

    it('writes each outbox envelope as JSON.stringify of its event, whatever the ids hold', async () => {
      // Each short enough for the id columns (a user's 32 characters).
      const controls = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('');
      const awkward = [
        controls.slice(0, 15),
        `${controls.slice(15)} \u007f`,
        'q " b \\ s / \\u0041',
        'é ü 中文 😀 👍🏽 \ufffd',
        '\u2028 \u2029 </script><!--',
        '{"json":"inside"}',
        'lone \ud800 x \udfff y \udbff',
      ];
      const told: Array<[EventMessage, string]> = [];
      const recorder = new EventRecorder({
        clock: Date.now,
        source: 'test "source" \\ é',
        schemas: DomainEventSchemas,
        onRecorded: (event, text) => told.push([event, text]),
      });
      const store = pairSendStore(db, {
        conversations,
        messages: new MessageRepository(db),
        events: recorder,
      });
      const drafts = awkward.flatMap((text, i) => {
        const [a, b] = [`${text}${i}a`, `b${i}${text}`];
        const there = { ...draft(a, b), msgId: `m${i}${text}`, content: text.repeat(5_000) };
        return [there, { ...draft(b, a), content: `${text} back` }];
      });
      // One transaction, one turn: one statement for them all.
      const stored = await db
        .transaction()
        .execute((trx) => Promise.all(drafts.map((d) => store.store(trx, d))));
      expect(stored.map((s) => s.seq)).toEqual(drafts.map((_, i) => 1 + (i % 2)));
      expect(told).toHaveLength(drafts.length);
      const wellFormed = (text: string) => text.replace(/\p{Cs}/gu, '\ufffd');
      for (const [i, d] of drafts.entries()) {
        const [event, text] = told.find(
          ([e]) => (e.payload as { msgId: string }).msgId === wellFormed(d.msgId),
        )!;
        const row = await db
          .selectFrom('outboxEvents')
          .select(['envelope', 'partitionKey'])
          .where('id', '=', event.id)
          .executeTakeFirstOrThrow();
        // Byte for byte the listener's text and JSON.stringify of its event.
        expect(row.envelope).toBe(text);
        expect(row.envelope).toBe(JSON.stringify(event));
        // The event as the rows hold it: PostgreSQL holds a lone surrogate as U+FFFD.
        const message = await db
          .selectFrom('messages')
          .select(['id', 'conversationId', 'sendId', 'recvId', 'content'])
          .where('id', '=', wellFormed(d.msgId))
          .executeTakeFirstOrThrow();
        expect(message).toEqual({
          id: wellFormed(d.msgId),
          conversationId: wellFormed(d.conversationId),
          sendId: wellFormed(d.sendId),
          recvId: wellFormed(d.recvId),
          content: wellFormed(d.content),
        });
        expect(row.partitionKey).toBe(message.conversationId);
        expect(event.payload).toEqual({
          ...messageSentPayload({ ...d, seq: stored[i]!.seq }),
          msgId: message.id,
          conversationId: message.conversationId,
          sendId: message.sendId,
          recvId: message.recvId,
        });
        if (!/\p{Cs}/u.test(d.sendId)) {
          expect(event.payload).toEqual(messageSentPayload({ ...d, seq: stored[i]!.seq }));
        }
      }
    });

    it("sends COMMIT behind the statement when every send is its unit's last, else runs the batch again together", async () => {
      const [a, b, c] = [newId(), newId(), newId()];
      const ab = singleConversationId(a, b);
      const ac = singleConversationId(a, c);
      await pair(ab, a, b);
      const log: string[] = [];
      const logged = loggingPostgres(config, log);
      try {
        const committer = groupCommitFor('postgres', logged)!;
        const runs = new Map<string, number>();
        const send = (d: PairMessage) =>
          committer.run((trx) => {
            runs.set(d.msgId, (runs.get(d.msgId) ?? 0) + 1);
            return pairs.store(trx, d, true);
          }, d.conversationId);
        // Both parties' rows there and shown: one attempt, COMMIT sent before any answer.
        const shown = [draft(a, b), draft(b, a), draft(a, b)];
        expect((await Promise.all(shown.map(send))).map((s) => s.seq)).toEqual([1, 2, 3]);
        expect(shown.map((d) => runs.get(d.msgId))).toEqual([1, 1, 1]);
        expect(log.indexOf('sent commit')).toBeLessThan(log.indexOf('answered with'));
        expect(log.filter((l) => l.startsWith('sent')).slice(-2)).toEqual([
          'sent with',
          'sent commit',
        ]);
        // ac has no rows yet (ChatService would create them): the strict statement
        // fails, COMMIT behind it rolls everything back, and the batch runs again
        // together (one transaction), COMMIT after its units.
        log.length = 0;
        const mixed = [draft(a, b), draft(a, c), draft(c, a)];
        const stored = await Promise.all(mixed.map(send));
        expect(stored.map((s) => s.seq)).toEqual([4, 1, 2]);
        expect(stored.map((s) => s.senderRow)).toEqual([true, false, false]);
        expect(mixed.map((d) => runs.get(d.msgId))).toEqual([2, 2, 2]);
        // One transaction each time (each unit alone would be three more).
        expect(log.filter((l) => l.startsWith('sent'))).toEqual([
          'sent begin',
          'sent with',
          'sent commit',
          'sent begin',
          'sent with',
          'sent commit',
        ]);
        // Stored once each: dense seqs, one outbox row per message.
        expect(await storedSeqs(db, ab)).toEqual([1, 2, 3, 4]);
        expect(await storedSeqs(db, ac)).toEqual([1, 2]);
        const outbox = await db
          .selectFrom('outboxEvents')
          .select('partitionKey')
          .where('partitionKey', 'in', [ab, ac])
          .execute();
        expect(outbox.filter((r) => r.partitionKey === ac)).toHaveLength(2);
        expect(await members(ac)).toEqual([]);
      } finally {
        await logged.destroy();
      }
    });

    it('runs a batch with a retry in it again unit by unit: the retry fails alone and takes no seq', async () => {
      const [a, b, c] = [newId(), newId(), newId()];
      const ab = singleConversationId(a, b);
      await pair(ab, a, b);
      const committer = groupCommitFor('postgres', db)!;
      const first = draft(a, b, 'same');
      await sendAll(committer, [first]);
      const runs = new Map<string, number>();
      const batch = [draft(a, b), draft(b, a), draft(a, b, 'same'), draft(a, c), draft(a, b)];
      const outcomes = await sendAll(committer, batch, runs);
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      // The batch failed and each unit ran again alone.
      expect(batch.map((d) => runs.get(d.msgId))).toEqual([2, 2, 2, 2, 2]);
      const seqs = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.seq : undefined));
      expect(seqs).toEqual([2, 3, undefined, 1, 4]);
      expect(await storedSeqs(db, ab)).toEqual([1, 2, 3, 4]);
      expect((await conversations.counters(ab)).maxSeq).toBe(4);
      expect(await members(ab)).toEqual(
        [
          [a, 4, batch[4]!.sendTime],
          [b, 3, batch[1]!.sendTime],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      );
    });

    it('stores one of two sends with the same client id in one batch, the other failing alone with no seq', async () => {
      const [a, b] = [newId(), newId()];
      const ab = singleConversationId(a, b);
      await pair(ab, a, b);
      // b's read position set ahead of the conversation (never by a send): not moved back.
      await db
        .updateTable('conversationMembers')
        .set({ readSeq: 50 })
        .where('conversationId', '=', ab)
        .where('userId', '=', b)
        .execute();
      const committer = groupCommitFor('postgres', db)!;
      const runs = new Map<string, number>();
      // a, b, a (twice the same client id), b, a: each sender's last send is not the batch's last.
      const batch = [draft(a, b), draft(b, a), draft(a, b, 'twice'), draft(b, a)];
      batch.push(draft(a, b, 'twice'), draft(b, a));
      const outcomes = await sendAll(committer, batch, runs);
      // Only the second 'twice' failed.
      expect(outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []))).toEqual([4]);
      expect(batch.map((d) => runs.get(d.msgId))).toEqual([2, 2, 2, 2, 2, 2]);
      const seqs = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.seq : undefined));
      expect(seqs).toEqual([1, 2, 3, 4, undefined, 5]);
      expect(await storedSeqs(db, ab)).toEqual([1, 2, 3, 4, 5]);
      expect((await conversations.counters(ab)).maxSeq).toBe(5);
      expect(await members(ab)).toEqual(
        [
          [a, 3, batch[2]!.sendTime],
          [b, 50, 1],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      );
      // The same batch again in one statement (no retry in it): one read position moved.
      const again = [draft(a, b), draft(b, a), draft(a, b), draft(b, a)];
      const stored = (await sendAll(committer, again, runs)).map((o) => {
        if (o.status === 'rejected') throw o.reason;
        return o.value;
      });
      expect(stored.map((s) => [s.seq, s.statements, s.readBefore?.readSeq])).toEqual([
        [6, 1, 3],
        [7, 1, undefined],
        [8, 1, 6],
        [9, 1, undefined],
      ]);
      expect(await members(ab)).toEqual(
        [
          [a, 8, again[2]!.sendTime],
          [b, 50, 1],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      );
    });

    it('stores the sends made in one turn together, and a later one in a statement of its own', async () => {
      const [a, b] = [newId(), newId()];
      const ab = singleConversationId(a, b);
      await pair(ab, a, b);
      const seen = await db.transaction().execute(async (trx) => {
        const handle = counted(trx);
        const together = await Promise.all([
          pairs.store(handle, draft(a, b)),
          pairs.store(handle, draft(b, a)),
        ]);
        const after = statements.get(trx);
        const later = await pairs.store(handle, draft(a, b));
        return {
          seqs: [...together, later].map((s) => s.seq),
          after,
          end: statements.get(trx),
          later,
        };
      });
      expect(seen.seqs).toEqual([1, 2, 3]);
      expect([seen.after, seen.end]).toEqual([1, 2]);
      // The later statement saw what the first wrote: a's read position at 1, b's row
      // moved by b's send.
      expect(seen.later).toMatchObject({ senderRow: true, recipientShown: true });
      expect(seen.later.readBefore?.readSeq).toBe(1);
    });

    it("locks conversations in id order: two processes' batches in opposite orders do not deadlock", async () => {
      // Two group commits on their own connections, as two server processes have.
      const [one, two] = [groupCommitFor('postgres', db)!, groupCommitFor('postgres', db)!];
      const [u, v, w] = [newId(), newId(), newId()];
      const [x, y] = [
        [u, v],
        [u, w],
      ].sort((p, q) =>
        singleConversationId(p[0]!, p[1]!).localeCompare(singleConversationId(q[0]!, q[1]!)),
      ) as Array<[string, string]>;
      const ids = [singleConversationId(...x!), singleConversationId(...y!)];
      for (const [s, r] of [x!, y!]) {
        await pair(singleConversationId(s, r), s, r);
        await sendAll(one, [draft(s, r)]);
      }
      const runs = new Map<string, number>();
      for (let round = 0; round < 2; round += 1) {
        // Both conversations locked elsewhere while the two batches start, then let go
        // at once: each batch takes the first conversation it asks for together with
        // the other. In opposite orders, each would then wait for the other's.
        const blocker = await db.startTransaction().execute();
        await sql`select id from conversations where id in (${ids[0]}, ${ids[1]}) for update`.execute(
          blocker,
        );
        const sent = Promise.all([
          sendAll(one, [draft(x![0], x![1]), draft(y![0], y![1])], runs),
          sendAll(two, [draft(y![1], y![0]), draft(x![1], x![0])], runs),
        ]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await blocker.commit().execute();
        const outcomes = await sent;
        expect(outcomes.flat().every((o) => o.status === 'fulfilled')).toBe(true);
      }
      // No batch lost a deadlock (one that did is run again unit by unit).
      expect([...runs.values()]).toEqual(Array.from({ length: 8 }, () => 1));
      expect(await storedSeqs(db, ids[0]!)).toEqual([1, 2, 3, 4, 5]);
      expect(await storedSeqs(db, ids[1]!)).toEqual([1, 2, 3, 4, 5]);
    });
  },
);
