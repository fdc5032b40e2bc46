import { CompiledQuery, sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import { newId } from '../../shared/ids.js';
import { ChatType, MessageType, singleConversationId, type Message } from './im.entity.js';
import { MessageRepository, UNREAD_OF_MANY } from './message.repository.js';

/**
 * The read-receipt check after a send (hasUnreadOf): right on every engine, and on
 * PostgreSQL the checks of a turn of the event loop go in one statement instead of a
 * pool connection and a round trip each (docs/performance-log.md, "The PostgreSQL tail
 * taken apart").
 */
describe.each(STORAGES)('unread checks on %s', (storage) => {
  const { t } = suiteApp({ storage });

  it('answers each check of a turn by its own range, sender and type, and on PostgreSQL in one statement', async () => {
    const { db } = t.app.storage;
    const messages = new MessageRepository(db);
    const [a, b] = [newId(), newId()];
    const conversationId = singleConversationId(a, b);
    const other = singleConversationId(a, newId());
    const message = (conv: string, seq: number, sendId: string, mType: number): Message => ({
      msgId: newId(),
      conversationId: conv,
      chatType: ChatType.single,
      sendId,
      recvId: sendId === a ? b : a,
      seq,
      sendTime: 1_000 + seq,
      mType,
      content: `m${seq}`,
      clientMsgId: null,
      modSeq: 0,
    });
    // 1 by a, 2 a notice (never unread), 3 by a, 4 by b; the other conversation: 1 by b.
    await db.transaction().execute(async (trx) => {
      await messages.insert(trx, message(conversationId, 1, a, MessageType.text));
      await messages.insert(trx, message(conversationId, 2, b, MessageType.notice));
      await messages.insert(trx, message(conversationId, 3, a, MessageType.text));
      await messages.insert(trx, message(conversationId, 4, b, MessageType.text));
      await messages.insert(trx, message(other, 1, b, MessageType.text));
    });
    const executor = db.getExecutor();
    const queries = vi.spyOn(executor, 'executeQuery');
    try {
      const found = await Promise.all([
        messages.hasUnreadOf(conversationId, a, { afterSeq: 0, beforeSeq: 2 }), // own only
        messages.hasUnreadOf(conversationId, a, { afterSeq: 0, beforeSeq: 4 }), // + a notice
        messages.hasUnreadOf(conversationId, a, { afterSeq: 3, beforeSeq: 5 }), // b's 4
        messages.hasUnreadOf(conversationId, a, { afterSeq: 4, beforeSeq: 5 }), // bounds open
        messages.hasUnreadOf(conversationId, b, { afterSeq: 3, beforeSeq: 5 }), // b's own 4
        messages.hasUnreadOf(conversationId, b, { afterSeq: 0, beforeSeq: 2 }), // a's 1
        messages.hasUnreadOf(other, a, { afterSeq: 0, beforeSeq: 2 }), // the other's 1
        messages.hasUnreadOf(other, a, { afterSeq: 1, beforeSeq: 9 }), // nothing there
      ]);
      expect(found).toEqual([false, false, true, false, false, true, true, false]);
      // Statements that read messages (the app's own background work aside).
      const reads = queries.mock.calls.filter(([q]) => /from\s+[`"]?messages\b/i.test(q.sql));
      expect(reads).toHaveLength(storage === 'postgres' ? 1 : found.length);
      // Elsewhere each check is the one statement written in SQL, not a query Kysely
      // built (which quotes its identifiers): it runs for every answer in a chat.
      if (storage !== 'postgres') {
        for (const [q] of reads) expect(q.sql).toMatch(/^select seq from messages\s+where/);
      }
      // A check of a later turn is a statement of its own, and answers alone.
      await expect(
        messages.hasUnreadOf(conversationId, a, { afterSeq: 3, beforeSeq: 5 }),
      ).resolves.toBe(true);
    } finally {
      queries.mockRestore();
    }
  });

  // The plan PostgreSQL picks for a turn's checks once the table has statistics and
  // many checks come at once (a backlog): with `where exists` it was a hash semi-join
  // over a sequential scan of every message stored, from fewer than 58 checks on at
  // 10,000 messages (docs/performance-log.md, "The unread check's plan").
  it.runIf(storage === 'postgres')(
    'reads messages by (conversation, seq) however many checks a turn holds',
    async () => {
      const { db } = t.app.storage;
      // 100 conversations of 100 messages each, both parties alternating.
      await sql`insert into messages (id, conversation_id, seq, chat_type, send_id, recv_id,
          send_time, m_type, content)
        select md5(c || '-' || s), 'plan-' || c, s, ${ChatType.single},
          'u' || c || (s % 2), 'u' || c || ((s + 1) % 2), 1000 + s, ${MessageType.text}, 'hi'
        from generate_series(1, 100) c, generate_series(1, 100) s`.execute(db);
      await sql`analyze messages`.execute(db);
      for (const checks of [10, 200, 500]) {
        const ks = Array.from({ length: checks }, (_, k) => k);
        const { rows } = await db.executeQuery<Record<string, string>>(
          CompiledQuery.raw(`explain (costs off) ${UNREAD_OF_MANY.textFor('postgres')}`, [
            ks.map((k) => `plan-${(k % 100) + 1}`),
            ks.map((k) => `u${(k % 100) + 1}0`),
            ks.map((k) => 40 + (k % 50)),
            ks.map((k) => 42 + (k % 50)),
            MessageType.notice,
          ]),
        );
        const plan = rows.map((row) => Object.values(row)[0]).join('\n');
        expect(plan, `${checks} checks`).not.toMatch(/Seq Scan on messages/);
        expect(plan, `${checks} checks`).toMatch(/Index Scan using messages_conversation_seq_uq/);
      }
    },
  );
});
