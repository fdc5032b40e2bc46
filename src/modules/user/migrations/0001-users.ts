import type { Kysely } from 'kysely';
import { tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  await createTable('users')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('phone', 'varchar(20)', (c) => c.notNull().unique())
    .addColumn('nickname', 'varchar(64)', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('sex', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('avatar', 'varchar(512)', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_nickname_idx').on('users').column('nickname').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('users').execute();
}
