import type { Kysely } from 'kysely';
import { tableMaker } from '../../adapters/storage/ddl.js';
import type { Dialect } from '../../adapters/storage/dialect.js';

/** Revoked tokens (logout) and per-user cut-offs (disabled accounts), durable in SQL. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  await createTable('token_revocations')
    .addColumn('key', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('token_revocations_expires_idx')
    .on('token_revocations')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('token_revocations').execute();
}
