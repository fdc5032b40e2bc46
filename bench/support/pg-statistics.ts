/**
 * Keeps a benchmark's PostgreSQL schema vacuumed and its planner statistics current,
 * as autovacuum does on a server run with its defaults.
 *
 * Why: the PostgreSQL of these machines runs with autovacuum off
 * (/etc/postgresql/15/main/conf.d/90-ci.conf), so nothing ever analyzes a benchmark's
 * tables. Without statistics the planner joins easy-chat's batched read-receipt check
 * to `messages` by a hash over a sequential scan of the whole table, a plan whose cost
 * grows with every message sent: PostgreSQL's CPU per message rose round after round
 * (1,085 → 1,749 µs at 200 questions/s in two minutes) and the tail with it, so a
 * figure depended on how many messages the run had sent before it. With the
 * statistics kept it stays flat (931–1,001). The ceiling's statements are primary-key
 * lookups that no plan turns into scans, but it gets the same treatment.
 * docs/performance-log.md, "PostgreSQL's statistics on a server without autovacuum".
 *
 * VACUUM too, not ANALYZE alone: every send updates both parties' rows of
 * `conversation_members` (200 rows in bench:private) and deletes published outbox
 * rows, so without a vacuum those tables and their indexes fill with dead versions
 * (4,300 dead member rows after a four-system run) that every read walks past, and the
 * database's CPU per message rose round after round even with the statistics kept
 * (223 → 322 µs; "The unread check's plan", tenth session). A server with autovacuum
 * on vacuums them by itself.
 *
 * Only the tables autovacuum would take (its default thresholds, below), not every
 * table every time: a schema whose system is idle (another system's turn) is left
 * alone. Vacuuming and analyzing every table of every PostgreSQL system each 5 s put
 * a VACUUM and an ANALYZE on the machine's two cores and its disk through every other
 * system's rounds, SQLite's included: easy-chat on SQLite read a p99 of 31–118 ms at
 * half capacity beside PostgreSQL's systems and 9–13 ms without them
 * (docs/performance-log.md, "One store's rounds beside another's background work").
 *
 * Every 5 s where autovacuum visits a database once a minute (`autovacuum_naptime`):
 * small vacuums in every round rather than a large one in one round of five. Neither
 * moves PostgreSQL's tail at half capacity, nor does turning the keeper off (six
 * alternating runs, docs/performance-log.md, "The VACUUM keeper at autovacuum's pace,
 * and off: not PostgreSQL's tail"); off, the backends' CPU a message read higher.
 *
 * `BENCH_PG_ANALYZE_MS` (default 5000; 0 turns it off). Nothing is done when the
 * server's autovacuum is on. `VACUUM (ANALYZE)` runs on a connection of its own, so its CPU
 * is not among a system's own backends (bench/support/db-cpu.ts), only in the whole
 * server's figure.
 */
import pg from 'pg';

/**
 * The tables of the schemas matching $1 that autovacuum would vacuum or analyze now, by
 * PostgreSQL 15's default thresholds: dead rows over 50 + 20 % of the live ones, rows
 * inserted since the last vacuum over 1,000 + 20 %, rows changed since the last analyze
 * over 50 + 10 %. (`n_ins_since_vacuum` needs PostgreSQL 13.) Both are done together:
 * a vacuum of a table with few dead rows costs little.
 */
const DUE_TABLES = `
  select format('%I.%I', schemaname, relname) as name
  from pg_stat_user_tables
  where schemaname like $1
    and (n_dead_tup > 50 + 0.2 * n_live_tup
      or n_ins_since_vacuum > 1000 + 0.2 * n_live_tup
      or n_mod_since_analyze > 50 + 0.1 * n_live_tup)`;

/** The tables of the schemas matching `schemaLike` (SQL LIKE) that autovacuum would take now. */
export async function dueTables(
  client: pg.Client,
  schemaLike: string,
): Promise<Array<{ name: string }>> {
  return (await client.query<{ name: string }>(DUE_TABLES, [schemaLike])).rows;
}

/**
 * Writes out PostgreSQL's dirty pages now (CHECKPOINT), so that what one system's rounds
 * left to write does not land in the next system's window. Needs a superuser or
 * pg_checkpoint's role (PostgreSQL 15); a refusal is only logged by the caller.
 */
export async function settlePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('checkpoint');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts vacuuming and analyzing the tables of the schemas matching `schemaLike` (SQL LIKE); returns the stop. */
export async function keepStatistics(
  url: string,
  schemaLike: string,
): Promise<() => Promise<void>> {
  const everyMs = Number(process.env.BENCH_PG_ANALYZE_MS ?? 5000);
  if (!(everyMs > 0)) return async () => undefined;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ autovacuum: string }>('show autovacuum');
  if (rows[0]?.autovacuum === 'on') {
    await client.end();
    return async () => undefined;
  }
  // Throttled as autovacuum is by default (autovacuum_vacuum_cost_delay 2 ms at a cost
  // limit of 200), not at a manual VACUUM's full speed: unthrottled, a busy system's
  // vacuum took 200-800 ms of a core every 5 s, and the slowest 1 % of most rounds at
  // half capacity fell inside one (docs/performance-log.md, "The PostgreSQL tail on the
  // round's timeline, and one batch in flight").
  await client.query(`set vacuum_cost_delay = '2ms'`);
  let last: Promise<unknown> = Promise.resolve();
  const analyze = async () => {
    const tables = await dueTables(client, schemaLike);
    // Outside a transaction block (VACUUM refuses one): a plain query on the client is.
    // PARALLEL 0: one process, as autovacuum is (PostgreSQL 15's autovacuum never
    // vacuums a table's indexes in parallel). Left to decide, a VACUUM of easy-chat's
    // `messages` (six indexes) started parallel workers beside the server on the
    // machine's two cores. Measured alike for the tail either way (docs/performance-log.md,
    // "The slowest 1 % on PostgreSQL's side of the clock"), but this is what it stands in for.
    if (tables.length > 0) {
      await client.query(`vacuum (analyze, parallel 0) ${tables.map((t) => t.name).join(', ')}`);
    }
  };
  const timer = setInterval(() => {
    // One at a time; a failure (the schema dropped meanwhile) only skips a round.
    last = last.then(analyze).catch(() => undefined);
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await last;
    await client.end().catch(() => undefined);
  };
}
