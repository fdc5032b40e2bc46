import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryResult,
  type SqliteDialectConfig,
} from 'kysely';

/**
 * The better-sqlite3 handle behind each SQLite Kysely instance, found by the
 * instance's dialect adapter (Kysely makes one per instance, and its transactions
 * share it). Precompiled statements run inside a transaction go straight to the
 * handle: better-sqlite3 is synchronous and the transaction already holds SQLite's
 * one connection, so Kysely's connection hand-off, promise chain and result plugins
 * per statement (a few µs each, several statements per message) buy nothing there.
 * Outside a transaction the statement still goes through Kysely, which waits for
 * the connection: running it directly there could slip it into someone else's open
 * transaction.
 */
const DIALECTS = new WeakMap<DialectAdapter, DirectSqliteDialect>();

/** Kysely's SQLite dialect, telling precompiled statements which handle it opened. */
export class DirectSqliteDialect extends SqliteDialect {
  /** The driver Kysely made of this dialect (one Kysely instance per dialect). */
  private driver: DirectSqliteDriver | undefined;

  constructor(
    private readonly config: SqliteDialectConfig,
    /** The handle the config's database factory opened (undefined before). */
    readonly handle: () => SQLite.Database | undefined,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return (this.driver = new DirectSqliteDriver(this.config, this.handle));
  }

  override createAdapter(): DialectAdapter {
    const adapter = super.createAdapter();
    DIALECTS.set(adapter, this);
    return adapter;
  }

  /** The connection's turns, once Kysely has made the driver. */
  get connection(): SqliteConnectionTurns | undefined {
    return this.driver;
  }
}

/**
 * SQLite's one connection, for a group commit that runs its batches' transactions
 * itself (GroupCommitter in group-commit.ts) instead of through Kysely's
 * `startTransaction`, which per batch builds a controlled transaction, a Kysely
 * instance and its executor and takes the connection and COMMIT through several
 * provider layers and their promises. The connection is the driver's own (Kysely's
 * `Driver` contract: whoever holds it until releasing it is alone on it), so a batch
 * holding it shuts out every Kysely query and transaction of the store as theirs do.
 */
export interface SqliteConnectionTurns {
  /**
   * The connection, held for the caller at once if no one holds it, else undefined
   * (then wait for it through Kysely's executor, `provideConnection`). Undefined too
   * before Kysely opened the database and after it was destroyed: Kysely's executor
   * opens it, or says it is destroyed.
   */
  holdNow(): DatabaseConnection | undefined;
  /** Gives back what `holdNow` gave: the next waiting for the connection gets it. */
  release(): void;
  /** BEGIN, COMMIT or ROLLBACK on the held connection, each prepared once. */
  control(what: Control): void;
}

/**
 * Kysely's SQLite driver, with BEGIN, COMMIT and ROLLBACK run straight on the handle
 * as statements prepared once: a group commit opens a transaction per batch, and
 * every unit run alone opens its own. It keeps the connection's turns itself (Kysely's
 * driver keeps them in a private mutex) so that a group commit can take the connection
 * without a promise when it is free (SqliteConnectionTurns); Kysely's queries and
 * transactions wait for it through `acquireConnection` as before.
 */
class DirectSqliteDriver extends SqliteDriver implements SqliteConnectionTurns {
  private readonly statements = new WeakMap<SQLite.Database, Record<Control, SQLite.Statement>>();
  /** The one connection (Kysely's driver's), once opened. */
  private connection: DatabaseConnection | undefined;
  private held = false;
  /** Those waiting for the connection, first come first served. */
  private readonly waiting: Array<() => void> = [];
  private destroyed = false;

  constructor(
    config: SqliteDialectConfig,
    private readonly handle: () => SQLite.Database | undefined,
  ) {
    super(config);
  }

  override async init(): Promise<void> {
    await super.init();
    // Kysely's driver hands out its one connection under its own mutex; taken once
    // here, it is handed out under this driver's turns from now on.
    this.connection = await super.acquireConnection();
    await super.releaseConnection();
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.held = true;
    return this.connection!;
  }

  override async releaseConnection(): Promise<void> {
    this.release();
  }

  holdNow(): DatabaseConnection | undefined {
    if (this.held || this.destroyed || !this.connection) return undefined;
    this.held = true;
    return this.connection;
  }

  release(): void {
    // Handed on still held: no one slips in between.
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }

  override async destroy(): Promise<void> {
    this.destroyed = true;
    await super.destroy();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    return this.runControl('begin', connection);
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.runControl('commit', connection);
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.runControl('rollback', connection);
  }

  control(what: Control): void {
    const handle = this.handle();
    if (!handle) throw new Error('the SQLite database is not open');
    let statements = this.statements.get(handle);
    if (!statements) {
      statements = {
        begin: handle.prepare('begin'),
        commit: handle.prepare('commit'),
        rollback: handle.prepare('rollback'),
      };
      this.statements.set(handle, statements);
    }
    statements[what].run();
  }

  private async runControl(what: Control, connection: DatabaseConnection): Promise<void> {
    if (!this.handle()) {
      await connection.executeQuery(CompiledQuery.raw(what));
      return;
    }
    this.control(what);
  }
}

type Control = 'begin' | 'commit' | 'rollback';

/** The open better-sqlite3 handle behind this adapter, if it is a DirectSqliteDialect's. */
export function sqliteHandleOf(adapter: unknown): SQLite.Database | undefined {
  return DIALECTS.get(adapter as DialectAdapter)?.handle();
}

/** The connection's turns behind this adapter, if it is a DirectSqliteDialect's. */
export function sqliteConnectionOf(adapter: unknown): SqliteConnectionTurns | undefined {
  return DIALECTS.get(adapter as DialectAdapter)?.connection;
}

/** One statement prepared on one handle, returning rows as Kysely's CamelCasePlugin would. */
export class DirectStatement<Row> {
  private readonly statement: SQLite.Statement;
  /** camelCased column names of a statement that returns rows. */
  private readonly keys: string[] | undefined;

  constructor(handle: SQLite.Database, text: string) {
    this.statement = handle.prepare(text);
    if (this.statement.reader) {
      this.keys = this.statement.columns().map((c) => camelCase(c.name));
      // Rows as arrays: the object with camelCased keys is built once, below.
      this.statement.raw(true);
    }
  }

  run(parameters: readonly unknown[]): QueryResult<Row> {
    const { keys } = this;
    if (keys === undefined) {
      const info = bound(parameters)
        ? this.statement.run(...parameters)
        : this.statement.run(parameters);
      return { rows: [], numAffectedRows: BigInt(info.changes) };
    }
    const found = bound(parameters)
      ? this.statement.all(...parameters)
      : this.statement.all(parameters);
    const rows = (found as unknown[][]).map((values) => rowOf<Row>(keys, values));
    return { rows };
  }

  /**
   * Runs a statement that returns no rows (an INSERT, UPDATE or DELETE) and gives how
   * many rows it changed: no result object per call (`run` builds one, with a BigInt,
   * for Kysely's shape; the send path's writes need none).
   */
  write(parameters: readonly unknown[]): number {
    return (bound(parameters) ? this.statement.run(...parameters) : this.statement.run(parameters))
      .changes;
  }

  /**
   * The first row a statement that returns rows gives (better-sqlite3's `get`: no
   * array of rows), or undefined; a statement that returns none runs and gives
   * undefined.
   */
  first(parameters: readonly unknown[]): Row | undefined {
    const { keys } = this;
    if (keys === undefined) {
      if (bound(parameters)) this.statement.run(...parameters);
      else this.statement.run(parameters);
      return undefined;
    }
    const values = (
      bound(parameters) ? this.statement.get(...parameters) : this.statement.get(parameters)
    ) as unknown[] | undefined;
    return values && rowOf<Row>(keys, values);
  }
}

/**
 * Whether a statement's parameters go to better-sqlite3 as arguments of their own
 * (`run(a, b, …)`) rather than as one array (`run([a, b, …])`). The binding reads an
 * array's elements one by one through V8's API (about 25–30 ns a parameter, a send's
 * four statements 37 parameters), its own arguments directly; the values bound are
 * the same. A long list (an `in (…)` of many values) stays an array: no call with
 * thousands of arguments.
 */
function bound(parameters: readonly unknown[]): boolean {
  return parameters.length <= MAX_SPREAD;
}

const MAX_SPREAD = 64;

/** A row from its values in `keys` order. */
function rowOf<Row>(keys: string[], values: unknown[]): Row {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i += 1) row[keys[i]!] = values[i];
  return row as Row;
}

/** snake_case → camelCase, as Kysely's CamelCasePlugin maps result columns. */
function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}
