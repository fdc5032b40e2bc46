import type { Kysely } from 'kysely';
import { longText, tableMaker } from '../../adapters/storage/ddl.js';
import type { Dialect } from '../../adapters/storage/dialect.js';

/**
 * Event layer tables: which events each consumer has applied (redelivery has no
 * effect), the audit log, ingested event ids (replay protection) and the relay
 * lease (one relay publishes at a time).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  await createTable('processed_events')
    .addColumn('consumer', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('processed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('processed_events_pk', ['consumer', 'event_id'])
    .execute();
  await db.schema
    .createIndex('processed_events_processed_at_idx')
    .on('processed_events')
    .column('processed_at')
    .execute();

  await createTable('audit_log')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    // The event that produced the row: a redelivered event cannot add a second row.
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)')
    .addColumn('target_id', 'varchar(64)')
    .addColumn('detail', longText(dialect), (c) => c.notNull())
    .addColumn('request_id', 'varchar(128)')
    .addColumn('method', 'varchar(16)')
    .addColumn('path', 'varchar(512)')
    .addColumn('status', 'integer')
    .addColumn('code', 'integer')
    .addColumn('source', 'varchar(128)', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_log_occurred_idx')
    .on('audit_log')
    .columns(['occurred_at', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_log_user_idx')
    .on('audit_log')
    .columns(['user_id', 'occurred_at'])
    .execute();
  await db.schema
    .createIndex('audit_log_kind_action_idx')
    .on('audit_log')
    .columns(['kind', 'action', 'occurred_at'])
    .execute();
  await db.schema
    .createIndex('audit_log_request_idx')
    .on('audit_log')
    .column('request_id')
    .execute();

  await createTable('ingested_events')
    .addColumn('source', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ingested_events_pk', ['source', 'event_id'])
    .execute();
  await db.schema
    .createIndex('ingested_events_received_at_idx')
    .on('ingested_events')
    .column('received_at')
    .execute();

  await createTable('relay_leases')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(128)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['relay_leases', 'ingested_events', 'audit_log', 'processed_events']) {
    await db.schema.dropTable(table).execute();
  }
}
