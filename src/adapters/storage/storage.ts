import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CamelCasePlugin,
  Kysely,
  Migrator,
  PostgresDialect,
  sql,
  type SqliteDialect,
} from 'kysely';
import type * as Pg from 'pg';
import type { Config } from '../../config/config.schema.js';
import type { Dialect } from './dialect.js';
import { ensureMysqlDatabase, mysqlDialect, retryingTransactions } from './mysql.js';
import { isUniqueViolation } from './storage-errors.js';
import { StaticMigrationProvider, type MigrationList } from './migration-provider.js';
import { DirectSqliteDialect } from './sqlite-direct.js';
import { CachedStatementDatabase } from './statement-cache.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { preparedName } from './precompiled.js';
import { loadWhenUsed } from '../../shared/load-when-used.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** An open SQL store: the query builder plus what the app needs around it. */
/** What a migration run reports: the migrations about to run, then those that ran. */
export type MigrationProgress =
  { phase: 'pending'; names: string[] } | { phase: 'applied'; names: string[]; ms: number };

export interface Storage {
  readonly db: Db;
  readonly dialect: Dialect;
  /** Runs every pending migration; safe to call from several processes at once. */
  /** Applies pending migrations; `report` hears how many there are before and which ran after. */
  migrate(report?: (progress: MigrationProgress) => void): Promise<void>;
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const PG_INT8_OID = 20;
const PG_NUMERIC_OID = 1700;

export interface StorageOptions {
  /**
   * A connection to the server broke (PostgreSQL restarted, network cut). The pool
   * drops that connection and opens a new one for the next query; requests that
   * were using it fail with a storage-unavailable error (503 / 100004).
   */
  onConnectionError?: (err: Error) => void;
}

/**
 * Opens SQLite (embedded default), PostgreSQL or MySQL/MariaDB as selected by `storage.driver`;
 * `migrate()` runs `migrations` (the app's list: src/catalogue/migrations.ts).
 */
export function openStorage(
  config: Config,
  migrations: MigrationList,
  options: StorageOptions = {},
): Storage {
  const dialect = config.storage.driver;
  const onError = options.onConnectionError ?? (() => undefined);
  const plugins = [new CamelCasePlugin()];
  const checkpointer = dialect === 'sqlite' ? walCheckpointer(config, () => db) : undefined;
  const db: Db =
    dialect === 'sqlite'
      ? new Kysely<Database>({ dialect: sqliteDialect(config, checkpointer), plugins })
      : dialect === 'postgres'
        ? new Kysely<Database>({ dialect: postgresDialect(config, onError), plugins })
        : retryingTransactions(
            new Kysely<Database>({ dialect: mysqlDialect(config, onError), plugins }),
          );

  return {
    db,
    dialect,
    async migrate(report) {
      if (dialect === 'postgres' && config.storage.postgres.schema !== 'public') {
        // Two processes starting together can both try; the loser's error is harmless.
        await sql`create schema if not exists ${sql.id(config.storage.postgres.schema)}`
          .execute(db)
          .catch((err: unknown) => {
            if (!isUniqueViolation(err)) throw err;
          });
      }
      if (dialect === 'mysql') {
        const { url, connectTimeoutMs } = config.storage.mysql;
        await ensureMysqlDatabase(url, connectTimeoutMs);
      }
      // Migrations may run long (an index built over a big table): on PostgreSQL
      // and MySQL they get a pool of their own without the query timeout.
      const migrationDb =
        dialect === 'postgres'
          ? new Kysely<Database>({
              dialect: postgresDialect(config, onError, { queryTimeoutMs: 0 }),
              plugins,
            })
          : dialect === 'mysql'
            ? retryingTransactions(
                new Kysely<Database>({
                  dialect: mysqlDialect(config, onError, { queryTimeoutMs: 0 }),
                  plugins,
                }),
              )
            : db;
      try {
        await migrateWith(migrationDb, report);
      } finally {
        if (migrationDb !== db) await migrationDb.destroy();
      }
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await checkpointer?.close();
      await db.destroy();
    },
  };

  async function migrateWith(
    db: Db,
    report: ((progress: MigrationProgress) => void) | undefined,
  ): Promise<void> {
    const migrator = new Migrator({
      db,
      provider: new StaticMigrationProvider(migrations, dialect),
      // Modules add migrations independently; one that sorts before an applied one
      // (merged later) still runs instead of stopping start-up.
      allowUnorderedMigrations: true,
      // Kysely looks for its bookkeeping tables in every schema unless told which.
      ...(dialect === 'postgres' ? { migrationTableSchema: config.storage.postgres.schema } : {}),
    });
    const ours = config.storage.postgres.schema;
    const pending = (await retryWhileOtherSchemaGone(() => migrator.getMigrations(), ours)).filter(
      (m) => !m.executedAt,
    );
    if (pending.length > 0) report?.({ phase: 'pending', names: pending.map((m) => m.name) });
    const started = Date.now();
    const { error, results } = await retryWhileOtherSchemaGone(async () => {
      const outcome = await migrator.migrateToLatest();
      // Kysely reports a failure in the outcome; a scan broken by another schema's drop
      // is thrown to be run again.
      if (outcome.error && isOtherSchemaGone(outcome.error, ours)) throw outcome.error as Error;
      return outcome;
    }, ours);
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new Error(`migration ${failed?.migrationName ?? ''} failed`, { cause: error });
    }
    const applied = (results ?? []).map((r) => r.migrationName);
    if (applied.length > 0) {
      report?.({ phase: 'applied', names: applied, ms: Date.now() - started });
    }
  }
}

/** Tries of a scan that another schema's drop broke (tests drop theirs in parallel). */
const SCAN_ATTEMPTS = 10;

/**
 * Whether the PostgreSQL server runs without autovacuum. Its ANALYZE is what keeps the
 * planner's statistics of `messages`, `conversation_members` and the outbox current;
 * without them the planner keeps choosing plans made for tables of a few rows (the
 * batched read-receipt check becomes a hash join over a sequential scan of every
 * message), so a message's cost grows with the messages stored. Measured in
 * docs/performance-log.md, "PostgreSQL's statistics on a server without autovacuum".
 */
export async function autovacuumIsOff(db: Db): Promise<boolean> {
  const { rows } = await sql<{ autovacuum: string }>`show autovacuum`.execute(db);
  return rows[0]?.autovacuum === 'off';
}

/**
 * Runs Kysely's schema scan `scan` again when it failed because a schema that is not
 * ours was dropped meanwhile: Kysely's introspection (the listing of pending
 * migrations, the migration itself) scans every schema of the database.
 */
export async function retryWhileOtherSchemaGone<T>(
  scan: () => Promise<T>,
  ours: string,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await scan();
    } catch (err) {
      if (attempt < SCAN_ATTEMPTS && isOtherSchemaGone(err, ours)) continue;
      throw err;
    }
  }
}

/**
 * PostgreSQL's "schema does not exist" (3F000) or "relation does not exist" (42P01,
 * a table of another schema dropped between two steps of the scan) about a schema
 * that is not ours.
 */
function isOtherSchemaGone(err: unknown, ours: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return false;
  if (code === '3F000') return !message.includes(`"${ours}"`);
  return code === '42P01' && !message.includes(`"${ours}.`);
}

function sqlitePath(config: Config): string {
  const { file } = config.storage.sqlite;
  return isAbsolute(file) ? file : resolve(config.dataDir, file);
}

/** Checkpoints off the event loop (wal-checkpointer.ts), unless configured off. */
function walCheckpointer(config: Config, db: () => Db): WalCheckpointer | undefined {
  const { synchronous, checkpoint } = config.storage.sqlite;
  if (!checkpoint.background) return undefined;
  const { restartPages, intervalMs } = checkpoint;
  return new WalCheckpointer(db, {
    file: sqlitePath(config),
    synchronous,
    restartPages,
    intervalMs,
  });
}

function sqliteDialect(config: Config, checkpointer?: WalCheckpointer): SqliteDialect {
  const { synchronous, busyTimeoutMs } = config.storage.sqlite;
  const path = sqlitePath(config);
  mkdirSync(dirname(path), { recursive: true });
  let handle: SQLite.Database | undefined;
  return new DirectSqliteDialect(
    {
      database: async () => {
        const database = new SQLite(path, { timeout: busyTimeoutMs });
        // WAL lets readers work during a write; synchronous picks crash vs power-loss safety.
        database.pragma('journal_mode = WAL');
        database.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
        database.pragma('foreign_keys = ON');
        if (checkpointer) {
          // The worker checkpoints; a COMMIT never does (it would on the event loop).
          database.pragma('wal_autocheckpoint = 0');
          checkpointer.start();
        }
        handle = database;
        return new CachedStatementDatabase(database);
      },
    },
    () => handle,
  );
}

/**
 * Runs the precompiled statements (precompiled.ts) as named prepared statements on
 * this connection: Kysely passes every query as text and values, which pg sends as
 * an unnamed statement, parsed and planned by the server each time.
 *
 * And sends what is queried in one turn of the event loop in one write: pg writes
 * each protocol message of a query (parse, bind, describe, execute, sync) on its
 * own, and in pipeline mode a group commit's batch queries dozens at once
 * (group-commit.ts); corked, they leave in one system call instead of one each.
 */
function tuneConnection(client: Pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const { stream } = client.connection;
  let corked = false;
  (client as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(() => {
        corked = false;
        stream.uncork();
      });
    }
    const [text, values] = args;
    const name = typeof text === 'string' && Array.isArray(values) ? preparedName(text) : undefined;
    return name === undefined ? query(...args) : query({ name, text, values }, ...args.slice(2));
  };
}

export function postgresDialect(
  config: Config,
  onError: (err: Error) => void,
  overrides: { queryTimeoutMs?: number } = {},
): PostgresDialect {
  const { url, poolSize, schema, connectTimeoutMs, idleTimeoutMs } = config.storage.postgres;
  const queryTimeoutMs = overrides.queryTimeoutMs ?? config.storage.postgres.queryTimeoutMs;
  const pg = loadWhenUsed<typeof Pg>('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    // pg's default closes a connection after 10 s idle: every lull longer than that
    // left the next burst of sends waiting while the pool opened connections again
    // (docs/performance-log.md, "Why PostgreSQL's tail depended on the run"). 0 keeps them.
    idleTimeoutMillis: idleTimeoutMs,
    // TCP keepalive finds a peer that vanished without closing (host down, cable cut),
    // but only after the system's keepalive time (two hours on Linux by default).
    keepAlive: true,
    // A server that stops answering without closing (a frozen host, a network that
    // drops packets) would hold every query on the connection, and with group commit
    // every send of the batch, until then. A query unanswered this long fails (503)
    // and its connection is destroyed (in pipeline mode all queries on it fail with
    // it); the pool opens a new one. 0: no limit.
    ...(queryTimeoutMs > 0 ? { query_timeout: queryTimeoutMs } : {}),
    // Queries made together are sent together and answered in order (group commit
    // sends a batch's statements at once); one at a time, it behaves as without.
    pipeline: true,
    // Every connection works in the configured schema (tests use one schema each).
    options: `-c search_path=${schema}`,
    application_name: `easy-chat:${config.nodeId}`,
    // BIGINT (epoch ms, seq, counts) fits a JS number for the next 285,000 years.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
        oid === PG_INT8_OID || oid === PG_NUMERIC_OID
          ? (value: string) => Number(value)
          : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
    },
  });
  // A connection that breaks emits 'error' on its client, and on the pool too while
  // idle. Unheard, either kills the process. The pool already discards broken
  // connections; the query that used one fails and is answered 503. Each error is
  // reported once, by the client's listener.
  pool.on('connect', (client) => {
    client.on('error', onError);
    tuneConnection(client);
  });
  pool.on('error', () => undefined);
  return new PostgresDialect({ pool });
}
