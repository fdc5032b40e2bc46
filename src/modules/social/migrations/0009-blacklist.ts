import type { Kysely } from 'kysely';
import { tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * The block list: one row per (blocker, blocked) pair. The primary key answers
 * "did the recipient block the sender" (checked on every private message); the
 * second index serves deleting an account, which removes the rows naming it on
 * either side.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // On MySQL: InnoDB, utf8mb4, byte-wise collation (ids compare exactly).
  const createTable = await tableMaker(db, dialect);
  await createTable('blacklist')
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('blocked_uid', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('blacklist_pkey', ['user_id', 'blocked_uid'])
    .execute();
  await db.schema
    .createIndex('blacklist_blocked_idx')
    .on('blacklist')
    .column('blocked_uid')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('blacklist').execute();
}
