import type { Kysely } from 'kysely';
import { tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Notifications actually handed to a push provider: one row per (message, user,
 * device). Written only after a provider accepted the notification, so a message
 * whose recipients were all online writes nothing here. It de-duplicates a
 * redelivered `message-sent` event and tells a recall which devices to update
 * (`recalled_at` set once the withdrawal went out; a device notified of a newer
 * message of the conversation since shows that one, found by conversation and seq). Rows older than the outbox
 * retention are pruned by the worker's housekeeping.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  await createTable('push_sent')
    .addColumn('msg_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('device_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('conversation_id', 'varchar(80)', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addColumn('recalled_at', 'bigint')
    .addPrimaryKeyConstraint('push_sent_pkey', ['msg_id', 'user_id', 'device_id'])
    .execute();
  await db.schema.createIndex('push_sent_sent_at_idx').on('push_sent').column('sent_at').execute();
  await db.schema
    .createIndex('push_sent_conversation_idx')
    .on('push_sent')
    .columns(['conversation_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('push_sent').execute();
}
