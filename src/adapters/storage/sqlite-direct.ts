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
const HANDLES = new WeakMap<DialectAdapter, () => SQLite.Database | undefined>();

/** Kysely's SQLite dialect, telling precompiled statements which handle it opened. */
export class DirectSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    /** The handle the config's database factory opened (undefined before). */
    private readonly handle: () => SQLite.Database | undefined,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new DirectSqliteDriver(this.config, this.handle);
  }

  override createAdapter(): DialectAdapter {
    const adapter = super.createAdapter();
    HANDLES.set(adapter, this.handle);
    return adapter;
  }
}

/**
 * Kysely's SQLite driver, with BEGIN, COMMIT and ROLLBACK run straight on the handle
 * as statements prepared once: a group commit opens a transaction per batch, and
 * every unit run alone opens its own. The connection is still acquired through
 * Kysely (its mutex keeps other queries out of the transaction).
 */
class DirectSqliteDriver extends SqliteDriver {
  private readonly control = new WeakMap<SQLite.Database, Record<Control, SQLite.Statement>>();

  constructor(
    config: SqliteDialectConfig,
    private readonly handle: () => SQLite.Database | undefined,
  ) {
    super(config);
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

  private async runControl(what: Control, connection: DatabaseConnection): Promise<void> {
    const handle = this.handle();
    if (!handle) {
      await connection.executeQuery(CompiledQuery.raw(what));
      return;
    }
    let statements = this.control.get(handle);
    if (!statements) {
      statements = {
        begin: handle.prepare('begin'),
        commit: handle.prepare('commit'),
        rollback: handle.prepare('rollback'),
      };
      this.control.set(handle, statements);
    }
    statements[what].run();
  }
}

type Control = 'begin' | 'commit' | 'rollback';

/** The open better-sqlite3 handle behind this adapter, if it is a DirectSqliteDialect's. */
export function sqliteHandleOf(adapter: unknown): SQLite.Database | undefined {
  return HANDLES.get(adapter as DialectAdapter)?.();
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
      const info = this.statement.run(parameters);
      return { rows: [], numAffectedRows: BigInt(info.changes) };
    }
    const rows = (this.statement.all(parameters) as unknown[][]).map((values) =>
      rowOf<Row>(keys, values),
    );
    return { rows };
  }

  /**
   * Runs a statement that returns no rows (an INSERT, UPDATE or DELETE) and gives how
   * many rows it changed: no result object per call (`run` builds one, with a BigInt,
   * for Kysely's shape; the send path's writes need none).
   */
  write(parameters: readonly unknown[]): number {
    return this.statement.run(parameters).changes;
  }

  /**
   * The first row a statement that returns rows gives (better-sqlite3's `get`: no
   * array of rows), or undefined; a statement that returns none runs and gives
   * undefined.
   */
  first(parameters: readonly unknown[]): Row | undefined {
    const { keys } = this;
    if (keys === undefined) {
      this.statement.run(parameters);
      return undefined;
    }
    const values = this.statement.get(parameters) as unknown[] | undefined;
    return values && rowOf<Row>(keys, values);
  }
}

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
