import { sql, type Kysely } from 'kysely';
import { longText, tableMaker } from '../../adapters/storage/ddl.js';
import type { Dialect } from '../../adapters/storage/dialect.js';

/**
 * The relay deletes the rows it published instead of marking them (issue 14): the
 * outbox holds only what is still to publish, read in order on the primary key, so
 * its two other index trees go. Each was one more tree that every message stored
 * wrote and each send's commit carried.
 *
 * - `outbox_events_unpublished_idx` (the unpublished rows in order) is dropped: the
 *   relay reads `position > ?` on the primary key.
 * - The UNIQUE on `id` is dropped: nothing looks an outbox row up by its event id.
 *   Ids are made unique by whoever records the event (newId); consumers and NATS
 *   de-duplicate by the id in the envelope, never by the table.
 * - Rows already marked published are deleted here, as the relay would now have
 *   done; the new relay no longer reads `published_at` (the column stays, always
 *   null, so the insert statements need not change; `attempts` still counts the
 *   failed tries on the head of the outbox).
 *
 * SQLite cannot drop a UNIQUE written in CREATE TABLE: the table is rebuilt with the
 * unpublished rows, keeping its AUTOINCREMENT counter so positions never repeat.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') return rebuildOnSqlite(db);
  await sql`delete from outbox_events where published_at is not null`.execute(db);
  if (dialect === 'mysql') {
    await db.schema.dropIndex('outbox_events_unpublished_idx').on('outbox_events').execute();
    // MySQL names a column's UNIQUE after the column.
    await db.schema.dropIndex('id').on('outbox_events').execute();
    return;
  }
  await db.schema.dropIndex('outbox_events_unpublished_idx').execute();
  // PostgreSQL names a column's UNIQUE <table>_<column>_key.
  await db.schema.alterTable('outbox_events').dropConstraint('outbox_events_id_key').execute();
}

async function rebuildOnSqlite(db: Kysely<unknown>): Promise<void> {
  const counter = await sql<{ seq: number }>`
    select seq from sqlite_sequence where name = 'outbox_events'`.execute(db);
  const createTable = await tableMaker(db, 'sqlite');
  await createTable('outbox_events_rebuilt')
    .addColumn('position', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('id', 'varchar(32)', (c) => c.notNull())
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('aggregate', 'varchar(32)', (c) => c.notNull())
    .addColumn('partition_key', 'varchar(128)', (c) => c.notNull())
    .addColumn('envelope', longText('sqlite'), (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('published_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`
    insert into outbox_events_rebuilt (position, id, type, aggregate, partition_key, envelope,
      created_at, published_at, attempts)
    select position, id, type, aggregate, partition_key, envelope, created_at, published_at,
      attempts
    from outbox_events where published_at is null order by position`.execute(db);
  await db.schema.dropTable('outbox_events').execute();
  await db.schema.alterTable('outbox_events_rebuilt').renameTo('outbox_events').execute();
  const seq = counter.rows[0]?.seq ?? 0;
  await sql`delete from sqlite_sequence where name = 'outbox_events'`.execute(db);
  await sql`insert into sqlite_sequence (name, seq) values ('outbox_events', ${seq})`.execute(db);
}

export async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // Published rows are gone for good; the indexes come back (the UNIQUE as an index),
  // as 0002 made them: a migration keeps its own copy, so later edits cannot change it.
  const unpublished = db.schema.createIndex('outbox_events_unpublished_idx').on('outbox_events');
  await (
    dialect === 'mysql'
      ? unpublished.columns(['published_at', 'position'])
      : unpublished.column('position').where(sql.ref('published_at'), 'is', null)
  ).execute();
  await db.schema
    .createIndex('outbox_events_id_idx')
    .on('outbox_events')
    .column('id')
    .unique()
    .execute();
}
