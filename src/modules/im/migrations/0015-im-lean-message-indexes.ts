import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Fewer index trees touched by every message stored (issue 14). Each index keyed by
 * conversation first adds about one dirty page per message of a group-commit batch
 * (the batch's messages land in different conversations), and those pages are what a
 * commit writes and syncs: the CPU of a send was mostly its commit.
 *
 * - `messages_conversation_sender_seq_idx` (conversation, sender, seq) is dropped:
 *   nothing reads by it any more. The read-receipt check after a send scans the seqs
 *   between two read positions by (conversation, seq), and the conversation list
 *   counts a reader's own messages after its read position the same way.
 * - `messages_conversation_mod_seq_idx` covers only changed messages (mod_seq > 0):
 *   a new message has mod_seq 0, and the change sync reads `mod_seq > cursor ≥ 0`
 *   (it says `mod_seq > 0` too, so the planner may use the partial index).
 * - `messages_reply_msg_id_idx` covers only replies (a recall finds the messages
 *   quoting it by `reply_msg_id = ?`, which implies not null).
 *
 * MySQL has no partial indexes: there the two stay whole; the dropped one goes.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const dropIndex = (name: string) =>
    dialect === 'mysql' ? db.schema.dropIndex(name).on('messages') : db.schema.dropIndex(name);
  await dropIndex('messages_conversation_sender_seq_idx').execute();
  if (dialect === 'mysql') return;
  await dropIndex('messages_conversation_mod_seq_idx').execute();
  await db.schema
    .createIndex('messages_conversation_mod_seq_idx')
    .on('messages')
    .columns(['conversation_id', 'mod_seq'])
    .where(sql.raw<boolean>('mod_seq > 0'))
    .execute();
  await dropIndex('messages_reply_msg_id_idx').execute();
  await db.schema
    .createIndex('messages_reply_msg_id_idx')
    .on('messages')
    .column('reply_msg_id')
    .where(sql.raw<boolean>('reply_msg_id is not null'))
    .execute();
}

export async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const dropIndex = (name: string) =>
    dialect === 'mysql' ? db.schema.dropIndex(name).on('messages') : db.schema.dropIndex(name);
  if (dialect !== 'mysql') {
    await dropIndex('messages_reply_msg_id_idx').execute();
    await db.schema
      .createIndex('messages_reply_msg_id_idx')
      .on('messages')
      .column('reply_msg_id')
      .execute();
    await dropIndex('messages_conversation_mod_seq_idx').execute();
    await db.schema
      .createIndex('messages_conversation_mod_seq_idx')
      .on('messages')
      .columns(['conversation_id', 'mod_seq'])
      .execute();
  }
  await db.schema
    .createIndex('messages_conversation_sender_seq_idx')
    .on('messages')
    .columns(['conversation_id', 'send_id', 'seq'])
    .execute();
}
