import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { isUniqueViolation } from '../../adapters/storage/storage-errors.js';
import { MessageRepository } from './message.repository.js';

const NEW_MIGRATION = '0017-im-message-pages';
const BEFORE = Object.fromEntries(
  Object.entries(MIGRATIONS).filter(([name]) => name !== NEW_MIGRATION),
);

const message = (seq: number, conversationId = 'a_b', sendId = 'a') => ({
  id: `m${conversationId}${seq}`,
  conversationId,
  seq,
  chatType: 2,
  sendId,
  recvId: sendId === 'a' ? 'b' : 'a',
  sendTime: 1_000 + seq,
  mType: 0,
  content: `hello ${seq}`,
  clientMsgId: `c${conversationId}${seq}`,
});

/** The indexes SQLite keeps on messages (autoindexes left out). */
async function messageIndexes(storage: Storage): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from sqlite_master
    where type = 'index' and tbl_name = 'messages' and sql is not null`.execute(storage.db);
  return rows.map((r) => r.name).sort();
}

describe.each(STORAGES)('messages migration 0017 on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('keeps the messages stored before: found by id, by seq and by client id; retries still refused', async () => {
    const made = testConfig({ storage: dialect });
    cleanups.push(made.cleanup);
    const before = openStorage(made.config, BEFORE);
    await before.migrate();
    await before.db
      .insertInto('messages')
      .values([message(1), message(2, 'a_b', 'b'), message(3), message(1, 'a_c')])
      .execute();
    if (dialect === 'sqlite') {
      expect(await messageIndexes(before)).toContain('messages_conversation_time_idx');
    }
    await before.close();

    const storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(() => storage.close());
    await storage.migrate();
    const messages = new MessageRepository(storage.db);

    expect((await messages.findById('ma_b2'))?.content).toBe('hello 2');
    expect((await messages.findByClientMsgId('a', 'ca_b3'))?.seq).toBe(3);
    expect(await messages.findByClientMsgId('b', 'ca_b3')).toBeUndefined();
    const page = await messages.range({
      conversationId: 'a_b',
      afterSeq: 0,
      limit: 10,
      order: 'asc',
      viewer: 'a',
    });
    expect(page.map((m) => m.msgId)).toEqual(['ma_b1', 'ma_b2', 'ma_b3']);
    const byTime = await messages.range({
      conversationId: 'a_b',
      afterSeq: 0,
      startSendTime: 1_002,
      limit: 10,
      order: 'desc',
    });
    expect(byTime.map((m) => m.seq)).toEqual([3, 2]);

    // Still unique per (sender, clientMsgId): a retried send stores nothing new…
    const retry = storage.db
      .insertInto('messages')
      .values({ ...message(4), clientMsgId: 'ca_b3' })
      .execute();
    await expect(retry).rejects.toSatisfy(isUniqueViolation);
    // …while another sender may use the same client id.
    await storage.db
      .insertInto('messages')
      .values({ ...message(4, 'a_b', 'b'), clientMsgId: 'ca_b3' })
      .execute();
    expect((await messages.findByClientMsgId('b', 'ca_b3'))?.seq).toBe(4);

    if (dialect === 'sqlite') {
      expect(await messageIndexes(storage)).toEqual([
        'messages_client_id_sender_uq',
        'messages_conversation_mod_seq_idx',
        // 0019's, of notices alone (they never count as unread).
        'messages_conversation_notice_idx',
        'messages_conversation_seq_uq',
        'messages_reply_msg_id_idx',
      ]);
      // The idempotency lookup is served by the reordered unique index.
      const { rows } = await sql<{ detail: string }>`explain query plan
        select * from messages where send_id = ${'a'} and client_msg_id = ${'x'}`.execute(
        storage.db,
      );
      expect(rows.map((r) => r.detail).join()).toContain('messages_client_id_sender_uq');
    }
  });
});
