import type { Kysely } from 'kysely';
import { tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Password reset codes (`POST /v1/user/password/resetCode`): at most one live code
 * per user (a new request replaces it), kept as an HMAC, never in clear, with its
 * expiry and the wrong guesses made against it.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  await createTable('password_reset_codes')
    .addColumn('user_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('code_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('attempts', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('password_reset_codes').execute();
}
