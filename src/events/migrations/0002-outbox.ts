import { sql, type Kysely } from 'kysely';
import { longText, tableMaker } from '../../adapters/storage/ddl.js';
import type { Dialect } from '../../adapters/storage/dialect.js';

/**
 * The transactional outbox: a domain event is inserted in the same transaction as
 * the state change it describes and relayed to the broker afterwards.
 * `position` gives a total insert order on every engine.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const isPostgres = dialect === 'postgres';
  const createTable = await tableMaker(db, dialect);
  await createTable('outbox_events')
    .addColumn(
      'position',
      isPostgres ? 'bigserial' : dialect === 'mysql' ? 'bigint' : 'integer',
      (c) => (isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement()),
    )
    .addColumn('id', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('aggregate', 'varchar(32)', (c) => c.notNull())
    .addColumn('partition_key', 'varchar(128)', (c) => c.notNull())
    .addColumn('envelope', longText(dialect), (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('published_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // The relay scans unpublished rows in order; a partial index keeps that scan small.
  // MySQL has no partial indexes: (published_at, position) finds the NULLs in order.
  if (dialect === 'mysql') {
    await db.schema
      .createIndex('outbox_events_unpublished_idx')
      .on('outbox_events')
      .columns(['published_at', 'position'])
      .execute();
    return;
  }
  await db.schema
    .createIndex('outbox_events_unpublished_idx')
    .on('outbox_events')
    .column('position')
    .where(sql.ref('published_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('outbox_events').execute();
}
