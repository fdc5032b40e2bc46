import { sql, type Kysely } from 'kysely';
import { longText, tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Conversations, their per-user state and messages.
 * - `conversations.max_seq` is the seq counter: a message takes max_seq + 1 in the
 *   transaction that stores it, so seqs are dense and never repeat.
 * - `conversation_members` holds each participant's read position (`read_seq`)
 *   and, for groups, the seq at which they joined (`join_seq`: they read only later
 *   messages).
 * - `messages` are unique per (conversation, seq) and per (sender, clientMsgId):
 *   a retried send finds the stored message instead of storing a second one.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  await createTable('conversations')
    .addColumn('id', 'varchar(80)', (c) => c.primaryKey())
    .addColumn('chat_type', 'smallint', (c) => c.notNull())
    .addColumn('max_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_msg_id', 'varchar(32)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await createTable('conversation_members')
    .addColumn('conversation_id', 'varchar(80)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('chat_type', 'smallint', (c) => c.notNull())
    .addColumn('target_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('read_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('join_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('is_show', 'smallint', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('conversation_members_pk', ['conversation_id', 'user_id'])
    .execute();
  await db.schema
    .createIndex('conversation_members_user_idx')
    .on('conversation_members')
    .column('user_id')
    .execute();

  // Un-hiding on a new message touches only hidden rows, not every member of a big group.
  // (MySQL has no partial indexes: the index covers is_show instead.)
  const hidden = db.schema
    .createIndex('conversation_members_hidden_idx')
    .on('conversation_members');
  await (
    dialect === 'mysql'
      ? hidden.columns(['conversation_id', 'is_show'])
      : hidden.column('conversation_id').where(sql.ref('is_show'), '=', 0)
  ).execute();

  await createTable('messages')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('conversation_id', 'varchar(80)', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('chat_type', 'smallint', (c) => c.notNull())
    .addColumn('send_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('recv_id', 'varchar(80)', (c) => c.notNull())
    .addColumn('send_time', 'bigint', (c) => c.notNull())
    .addColumn('m_type', 'smallint', (c) => c.notNull())
    .addColumn('content', longText(dialect), (c) => c.notNull())
    .addColumn('client_msg_id', 'varchar(64)')
    .execute();
  await db.schema
    .createIndex('messages_conversation_seq_uq')
    .on('messages')
    .columns(['conversation_id', 'seq'])
    .unique()
    .execute();
  await db.schema
    .createIndex('messages_sender_client_id_uq')
    .on('messages')
    .columns(['send_id', 'client_msg_id'])
    .unique()
    .execute();
  // Counting one's own messages after read_seq (unread excludes them).
  await db.schema
    .createIndex('messages_conversation_sender_seq_idx')
    .on('messages')
    .columns(['conversation_id', 'send_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('messages_conversation_time_idx')
    .on('messages')
    .columns(['conversation_id', 'send_time'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('messages').execute();
  await db.schema.dropTable('conversation_members').execute();
  await db.schema.dropTable('conversations').execute();
}
