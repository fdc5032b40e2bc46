import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../test/support/backends.js';
import { openTestBroker } from '../../test/support/brokers.js';
import { testRelay } from '../../test/support/outbox.js';
import { testConfig } from '../../test/support/test-app.js';
import type { Dialect } from '../adapters/storage/dialect.js';
import { openStorage, type Storage } from '../adapters/storage/storage.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { DOMAIN_TOPIC } from './outbox-relay.js';

const NEW_MIGRATION = '0016-outbox-delete-published';
const BEFORE = Object.fromEntries(
  Object.entries(MIGRATIONS).filter(([name]) => name !== NEW_MIGRATION),
);

/** The indexes of outbox_events, as the engine's catalogue lists them. */
async function outboxIndexes(storage: Storage, dialect: Dialect): Promise<string[]> {
  const query =
    dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master
          where type = 'index' and tbl_name = 'outbox_events'`
      : dialect === 'postgres'
        ? sql<{ name: string }>`select indexname as name from pg_indexes
            where tablename = 'outbox_events' and schemaname = current_schema()`
        : sql<{
            name: string;
          }>`select distinct index_name as name from information_schema.statistics
            where table_schema = database() and table_name = 'outbox_events'`;
  return (await query.execute(storage.db)).rows.map((r) => r.name).sort();
}

describe.each(STORAGES)('outbox migration 0016 on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('applies to an outbox with rows: published rows go, the rest stay in order for the relay', async () => {
    const made = testConfig({ storage: dialect });
    cleanups.push(made.cleanup);
    const before = openStorage(made.config, BEFORE);
    await before.migrate();
    const row = (n: number, publishedAt: number | null) => ({
      id: `event${n}`,
      type: 'user-updated',
      aggregate: 'user',
      partitionKey: 'u1',
      envelope: JSON.stringify({
        id: `event${n}`,
        type: 'user-updated',
        aggregate: 'user',
        timestamp: n,
        payload: { userId: 'u1', fields: [String(n)] },
        metadata: { source: 'test', version: 1 },
      }),
      createdAt: n,
      publishedAt,
      attempts: 0,
    });
    // Published (kept for retention by the old relay), then unpublished, the newest published.
    await before.db
      .insertInto('outboxEvents')
      .values([row(1, 10), row(2, 10), row(3, null), row(4, null), row(5, 11)])
      .execute();
    expect(await outboxIndexes(before, dialect)).not.toEqual(await onlyPrimaryKey(dialect));
    await before.close();

    const storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(() => storage.close());
    await storage.migrate();
    const left = await storage.db
      .selectFrom('outboxEvents')
      .select(['id', 'position'])
      .orderBy('position')
      .execute();
    expect(left.map((r) => [r.id, Number(r.position)])).toEqual([
      ['event3', 3],
      ['event4', 4],
    ]);
    expect(await outboxIndexes(storage, dialect)).toEqual(await onlyPrimaryKey(dialect));
    // Positions go on after the highest ever given, the deleted newest one included;
    // an id may now repeat as far as the table is concerned (the recorder makes them unique).
    await storage.db.insertInto('outboxEvents').values(row(3, null)).execute();
    const positions = await storage.db
      .selectFrom('outboxEvents')
      .select('position')
      .orderBy('position')
      .execute();
    expect(positions.map((r) => Number(r.position))).toEqual([3, 4, 6]);

    // The relay publishes what was left, in order, and deletes it.
    const { broker, cleanup } = await openTestBroker('memory');
    cleanups.push(cleanup, () => broker.close());
    const got: string[] = [];
    await broker.subscribe({ topic: DOMAIN_TOPIC, types: ['user-updated'] }, async (d) => {
      got.push((d.event.payload as { fields: string[] }).fields[0]!);
    });
    const relay = testRelay(storage.db, broker);
    expect(await relay.relayOnce()).toBe(3);
    expect(got).toEqual(['3', '4', '3']);
    expect(await storage.db.selectFrom('outboxEvents').select('id').execute()).toEqual([]);
  });
});

/** What outboxIndexes lists for a table with its primary key alone. */
async function onlyPrimaryKey(dialect: Dialect): Promise<string[]> {
  // SQLite keeps an INTEGER PRIMARY KEY in the table's own tree: no index at all.
  if (dialect === 'sqlite') return [];
  return dialect === 'postgres' ? ['outbox_events_pkey'] : ['PRIMARY'];
}
