import {
  CompiledQuery,
  MysqlDialect,
  sql,
  type Kysely,
  type Transaction,
  type TransactionBuilder,
} from 'kysely';
import type * as MysqlPromise from 'mysql2/promise';
import type * as Mysql from 'mysql2';
import type { PoolConnection } from 'mysql2';
import type { Config } from '../../config/config.schema.js';
import { loadWhenUsed } from '../../shared/load-when-used.js';
import { isTransientConflict } from './storage-errors.js';

/**
 * Every session works the way the rest of the code assumes (PostgreSQL's ways):
 * - strict mode: a value that does not fit is an error, never silently cut;
 * - READ COMMITTED, as on PostgreSQL: no gap locks, fewer deadlocks;
 * - a lock wait gives up well before a client's request would time out.
 */
const SESSION_SETUP = [
  "set session sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
  'set session transaction isolation level read committed',
  'set session innodb_lock_wait_timeout = 10',
];

/**
 * Kysely's MySQL dialect over a mysql2 pool (MySQL 8 or MariaDB 10.11+). `queryTimeoutMs`
 * overrides `storage.mysql.queryTimeoutMs` (migrations run without a limit).
 */
export function mysqlDialect(
  config: Config,
  onError: (err: Error) => void,
  overrides: { queryTimeoutMs?: number } = {},
): MysqlDialect {
  const { url, poolSize, connectTimeoutMs } = config.storage.mysql;
  const queryTimeoutMs = overrides.queryTimeoutMs ?? config.storage.mysql.queryTimeoutMs;
  const pool = loadWhenUsed<typeof Mysql>('mysql2').createPool({
    uri: url.replace(/^mariadb:/i, 'mysql:'),
    connectionLimit: poolSize,
    connectTimeout: connectTimeoutMs,
    // utf8mb4 on the wire: 4-byte characters (emoji) round-trip.
    charset: 'UTF8MB4_GENERAL_CI',
    // SUM() and AVG() come back as DECIMAL: numbers, like COUNT() and BIGINT columns.
    decimalNumbers: true,
    // Times are BIGINT epoch milliseconds; no DATETIME conversion happens anyway.
    timezone: 'Z',
    // TCP keepalive finds a peer that vanished without closing (host down, cable cut).
    enableKeepAlive: true,
    connectAttributes: { program_name: `easy-chat:${config.nodeId}` },
  });
  // A connection that breaks emits 'error'; unheard, it would kill the process. The
  // pool drops the connection; the query that used it fails and is answered 503.
  pool.on('connection', (connection) => {
    connection.on('error', onError);
    if (queryTimeoutMs > 0) limitQueryTime(connection, queryTimeoutMs);
  });
  return new MysqlDialect({
    pool,
    onCreateConnection: async (connection) => {
      for (const statement of SESSION_SETUP)
        await connection.executeQuery(CompiledQuery.raw(statement));
    },
  });
}

/**
 * A server that stops answering without closing (a frozen host, a network that drops
 * packets) would hold every query on the connection until TCP keepalive gives up,
 * minutes later. mysql2 can fail a query unanswered for `timeout` ms, but it leaves the
 * connection waiting for that query's answer, so the connection is destroyed here: the
 * pool drops it and opens a new one, and the query fails with PROTOCOL_SEQUENCE_TIMEOUT
 * (storage unavailable: 503 / 100004). Kysely runs every query as `query(sql, values,
 * callback)`; that form gets the limit.
 */
function limitQueryTime(connection: PoolConnection, timeoutMs: number): void {
  type Callback = (err: { code?: string } | null, ...rest: unknown[]) => void;
  const query = connection.query.bind(connection) as (...args: unknown[]) => unknown;
  const limited = (...args: unknown[]): unknown => {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || typeof callback !== 'function') return query(...args);
    return query(
      { sql: text, timeout: timeoutMs },
      values,
      (err: { code?: string } | null, ...rest: unknown[]) => {
        if (err?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') connection.destroy();
        (callback as Callback)(err, ...rest);
      },
    );
  };
  connection.query = limited as typeof connection.query;
}

/** A connection of its own, for the statements a pool does not run (a database's creation). */
function createConnection(
  options: MysqlPromise.ConnectionOptions,
): Promise<MysqlPromise.Connection> {
  return loadWhenUsed<typeof MysqlPromise>('mysql2/promise').createConnection(options);
}

/** The database named in a mysql:// URL, and the URL of the server itself. */
function splitDatabase(url: string): { server: string; database: string } {
  const parsed = new URL(url.replace(/^mariadb:/i, 'mysql:'));
  const database = decodeURIComponent(parsed.pathname.slice(1));
  parsed.pathname = '/';
  return { server: parsed.toString(), database };
}

/**
 * Creates the database named in the URL when it does not exist yet (as PostgreSQL
 * start-up creates its schema), in utf8mb4. An existing one is left as it is, so a
 * user without the CREATE privilege works with a database made for it.
 */
export async function ensureMysqlDatabase(url: string, connectTimeoutMs: number): Promise<void> {
  const { server, database } = splitDatabase(url);
  if (database === '') throw new Error('storage.mysql.url: name the database (mysql://host/db)');
  const connection = await createConnection({ uri: server, connectTimeout: connectTimeoutMs });
  try {
    const [rows] = await connection.query(
      'select schema_name from information_schema.schemata where schema_name = ?',
      [database],
    );
    if ((rows as unknown[]).length > 0) return;
    await connection.query(
      `create database if not exists \`${database.replaceAll('`', '``')}\` character set utf8mb4`,
    );
  } finally {
    await connection.end();
  }
}

/** Drops the database named in the URL (tests, and nothing else, do this). */
export async function dropMysqlDatabase(url: string): Promise<void> {
  const { server, database } = splitDatabase(url);
  const connection = await createConnection({ uri: server });
  try {
    await connection.query(`drop database if exists \`${database.replaceAll('`', '``')}\``);
  } finally {
    await connection.end();
  }
}

/**
 * The collation of every table: byte-wise and without trailing-space padding, so
 * that equality, uniqueness and order are those of PostgreSQL and SQLite ("a" and
 * "A", or "a" and "a ", are different ids). The name differs between the servers.
 */
export async function mysqlCollation(db: Kysely<unknown>): Promise<string> {
  const { rows } = await sql<{ version: string }>`select version() as version`.execute(db);
  return /mariadb/i.test(rows[0]?.version ?? '') ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
}

const TRANSACTION_ATTEMPTS = 4;

/**
 * On MySQL a deadlock aborts one of the transactions involved, and a lock wait
 * that times out aborts a statement; both are "try again", like PostgreSQL's
 * serialization failures. Every `db.transaction().execute(work)` is run again from
 * the start (the work is only database writes, so re-running it is safe) a few
 * times before the error reaches the client as 503.
 */
export function retryingTransactions<DB>(db: Kysely<DB>): Kysely<DB> {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'transaction') return () => retryingBuilder(target);
      const value: unknown = Reflect.get(target, prop, target);
      // Kysely's methods use private fields: they must run on the real instance.
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

function retryingBuilder<DB>(db: Kysely<DB>): TransactionBuilder<DB> {
  const retrying = {
    async execute<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await db.transaction().execute(work);
        } catch (err) {
          if (attempt >= TRANSACTION_ATTEMPTS || !isTransientConflict(err)) throw err;
          // A short random wait lets the other transaction finish first.
          await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 20));
        }
      }
    },
  };
  // Only execute() is used in this code base (no isolation level or access mode changes).
  return retrying as unknown as TransactionBuilder<DB>;
}
