import type { Kysely } from 'kysely';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Fewer pages written per message stored on SQLite (issue 14; measured by
 * bench/sqlite-pages.ts, docs/performance-log.md "SQLite: pages per message"). Each index
 * whose new entries land in a different leaf per message adds about 1.4 pages to
 * every message's share of a group commit, and a commit's CPU follows its pages.
 *
 * - `messages_conversation_time_idx` (conversation, send_time) is dropped on SQLite:
 *   no statement was ever planned on it there. SQLite keeps no statistics here (no
 *   ANALYZE), and every read of messages by time also names the conversation, bounds
 *   the seq and orders by seq (history pages), which the (conversation, seq) index
 *   serves; the admin's count per day names no conversation, so this index could not
 *   serve it either (a scan of the table, as before). PostgreSQL and MySQL keep it:
 *   with statistics their planners may take it for a narrow time window in a long
 *   conversation.
 * - The unique index on (send_id, client_msg_id) becomes (client_msg_id, send_id):
 *   the same pairs are unique and the idempotency lookup names both columns, so it
 *   is served alike. Keyed by sender, each message's entry went into its sender's own
 *   leaf (one page per message); keyed by the client's id first, ids that grow with
 *   time (ULIDs, UUIDv7) land at the index's right edge, in pages the batch's other
 *   messages share. Random ids (UUIDv4) cost what they cost before.
 *
 * The messages table itself stays a rowid table: measured, a WITHOUT ROWID table
 * keyed by (conversation, seq) wrote more pages per message than the rowid table
 * and its (conversation, seq) index together (whole rows fill a conversation's leaf
 * sooner than index entries do, and every other index then carries the wider key).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  await db.schema.dropIndex('messages_conversation_time_idx').execute();
  // The new unique index first: the pairs stay unique throughout.
  await db.schema
    .createIndex('messages_client_id_sender_uq')
    .on('messages')
    .columns(['client_msg_id', 'send_id'])
    .unique()
    .execute();
  await db.schema.dropIndex('messages_sender_client_id_uq').execute();
}

export async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  await db.schema
    .createIndex('messages_sender_client_id_uq')
    .on('messages')
    .columns(['send_id', 'client_msg_id'])
    .unique()
    .execute();
  await db.schema.dropIndex('messages_client_id_sender_uq').execute();
  await db.schema
    .createIndex('messages_conversation_time_idx')
    .on('messages')
    .columns(['conversation_id', 'send_time'])
    .execute();
}
