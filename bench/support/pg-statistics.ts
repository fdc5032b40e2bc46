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
 * docs/performance.md, "PostgreSQL's statistics on a server without autovacuum".
 *
 * VACUUM too, not ANALYZE alone: every send updates both parties' rows of
 * `conversation_members` (200 rows in bench:private) and deletes published outbox
 * rows, so without a vacuum those tables and their indexes fill with dead versions
 * (4,300 dead member rows after a four-system run) that every read walks past, and the
 * database's CPU per message rose round after round even with the statistics kept
 * (223 → 322 µs; "The unread check's plan", tenth session). A server with autovacuum
 * on vacuums them by itself.
 *
 * `BENCH_PG_ANALYZE_MS` (default 5000; 0 turns it off). Nothing is done when the
 * server's autovacuum is on. `VACUUM (ANALYZE)` runs on a connection of its own, so its CPU
 * is not among a system's own backends (bench/support/db-cpu.ts), only in the whole
 * server's figure.
 */
import pg from 'pg';

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
  let last: Promise<unknown> = Promise.resolve();
  const analyze = async () => {
    const { rows: tables } = await client.query<{ name: string }>(
      `select format('%I.%I', schemaname, relname) as name
       from pg_stat_user_tables where schemaname like $1`,
      [schemaLike],
    );
    // Outside a transaction block (VACUUM refuses one): a plain query on the client is.
    if (tables.length > 0) {
      await client.query(`vacuum (analyze) ${tables.map((t) => t.name).join(', ')}`);
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
