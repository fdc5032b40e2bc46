import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueTables } from '../bench/support/pg-statistics.js';
import { TEST_DATABASE_URL } from './support/backends.js';

// The benchmarks' stand-in for autovacuum takes only the tables autovacuum would take,
// so an idle system's schema is left alone through other systems' rounds.
describe.skipIf(!TEST_DATABASE_URL)('dueTables (the benchmarks vacuum like autovacuum)', () => {
  const schema = `bench_due_${process.pid}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  // Counters reach pg_stat_user_tables when a backend flushes them (PostgreSQL 15).
  const flush = () => client.query('select pg_stat_force_next_flush()');

  beforeAll(async () => {
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.query(`create table ${schema}.busy (id int primary key, n int)`);
    await client.query(`create table ${schema}.quiet (id int primary key)`);
    await client.query(`insert into ${schema}.quiet select generate_series(1, 10)`);
    await client.query(`vacuum (analyze) ${schema}.quiet`);
  });
  afterAll(async () => {
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('lists a table with many changed rows and not one left alone', async () => {
    await client.query(`insert into ${schema}.busy select g, 0 from generate_series(1, 2000) g`);
    await flush();
    expect((await dueTables(client, schema)).map((t) => t.name)).toEqual([`${schema}.busy`]);
  });

  it('lists nothing once vacuumed and analyzed, and the table again after updates', async () => {
    await client.query(`vacuum (analyze) ${schema}.busy`);
    await flush();
    expect(await dueTables(client, schema)).toEqual([]);
    await client.query(`update ${schema}.busy set n = n + 1 where id <= 1000`);
    await flush();
    expect((await dueTables(client, schema)).map((t) => t.name)).toEqual([`${schema}.busy`]);
  });
});
