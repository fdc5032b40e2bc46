import type { Kysely } from 'kysely';
import { longText, tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Messages that change after they are sent (docs/websocket.md, "Messages that change").
 * - `conversations.max_mod_seq` is the modification counter: a change to a message
 *   (recall, edit, reaction) takes the next value in the transaction that makes it,
 *   and the message row keeps it in `mod_seq` (0: never changed). Sync returns the
 *   messages changed after a client's modSeq, as IMAP CONDSTORE does.
 * - A message's reply snapshot, mentions and reactions are JSON text (null when
 *   absent); `reply_msg_id` is indexed so a recall can update the snapshots quoting it.
 * - `conversation_members` gains the user's own settings: `pinned`, `muted`, the
 *   `clear_seq` floor (history and sync start after it) and `mention_seq` (the last
 *   message mentioning the user: mentioned while it is above `read_seq`).
 * - `message_deletions` are "delete for me" rows; `message_versions` keep the text
 *   before each edit, for audit only (erased with the message on recall).
 * Every column is added on its own: SQLite alters one column per statement.
 * On MySQL the JSON and text columns are MEDIUMTEXT (TEXT stops at 64 KB; a big
 * group's reactions pass that), and new tables take the utf8mb4 binary collation.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  const addColumns = async (
    table: string,
    columns: Array<[string, 'bigint' | 'smallint' | 'text' | 'varchar(32)', 'zero' | 'null']>,
  ) => {
    for (const [name, type, fill] of columns) {
      await db.schema
        .alterTable(table)
        .addColumn(name, type === 'text' ? longText(dialect) : type, (c) =>
          fill === 'zero' ? c.notNull().defaultTo(0) : c,
        )
        .execute();
    }
  };

  await addColumns('conversations', [['max_mod_seq', 'bigint', 'zero']]);
  await addColumns('messages', [
    ['mod_seq', 'bigint', 'zero'],
    ['edited_at', 'bigint', 'null'],
    ['revoked_by', 'varchar(32)', 'null'],
    ['revoked_at', 'bigint', 'null'],
    ['reply_msg_id', 'varchar(32)', 'null'],
    ['reply_to', 'text', 'null'],
    ['at_user_ids', 'text', 'null'],
    ['at_all', 'smallint', 'zero'],
    ['reactions', 'text', 'null'],
  ]);
  await addColumns('conversation_members', [
    ['pinned', 'smallint', 'zero'],
    ['muted', 'smallint', 'zero'],
    ['clear_seq', 'bigint', 'zero'],
    ['mention_seq', 'bigint', 'zero'],
  ]);

  await db.schema
    .createIndex('messages_conversation_mod_seq_idx')
    .on('messages')
    .columns(['conversation_id', 'mod_seq'])
    .execute();
  await db.schema
    .createIndex('messages_reply_msg_id_idx')
    .on('messages')
    .column('reply_msg_id')
    .execute();

  await createTable('message_deletions')
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('conversation_id', 'varchar(80)', (c) => c.notNull())
    .addColumn('msg_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_deletions_pk', ['user_id', 'conversation_id', 'msg_id'])
    .execute();

  await createTable('message_versions')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('msg_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('content', longText(dialect), (c) => c.notNull())
    .addColumn('edited_by', 'varchar(32)', (c) => c.notNull())
    .addColumn('replaced_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('message_versions_msg_idx')
    .on('message_versions')
    .column('msg_id')
    .execute();
}

export async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema.dropTable('message_versions').execute();
  await db.schema.dropTable('message_deletions').execute();
  // MySQL's indexes belong to their table (DROP INDEX … ON table).
  const dropIndex = (name: string) =>
    dialect === 'mysql' ? db.schema.dropIndex(name).on('messages') : db.schema.dropIndex(name);
  await dropIndex('messages_reply_msg_id_idx').execute();
  await dropIndex('messages_conversation_mod_seq_idx').execute();
  const drop = async (table: string, columns: string[]) => {
    for (const column of columns) await db.schema.alterTable(table).dropColumn(column).execute();
  };
  await drop('conversation_members', ['mention_seq', 'clear_seq', 'muted', 'pinned']);
  await drop('messages', [
    'reactions',
    'at_all',
    'at_user_ids',
    'reply_to',
    'reply_msg_id',
    'revoked_at',
    'revoked_by',
    'edited_at',
    'mod_seq',
  ]);
  await drop('conversations', ['max_mod_seq']);
}
