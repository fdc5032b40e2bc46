import type SQLite from 'better-sqlite3';
import { CompiledQuery, PostgresAdapter, type Kysely, type QueryResult } from 'kysely';
import { DirectStatement, sqliteHandleOf } from './sqlite-direct.js';

/** A Kysely instance or transaction of any database type. */
interface Executor {
  readonly isTransaction: boolean;
  getExecutor(): {
    readonly adapter: unknown;
    withoutPlugins(): { executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> };
  };
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * A statement of the hot path (storing a message), written once in SQL and run as
 * is, without Kysely building and compiling it per call: for a statement that runs
 * thousands of times a second, building and compiling costs more than the database
 * spends on it. It still runs through Kysely's executor, so it takes part in the
 * caller's transaction and its rows come back camelCased like every other query's.
 *
 * The text uses `?` placeholders and plain snake_case identifiers, valid on SQLite,
 * PostgreSQL and MySQL alike; on PostgreSQL the placeholders become `$1`, `$2`…
 * Where the engines' syntax differs, the caller keeps a Kysely query for the odd one.
 *
 * Make each one once, at module level, from a fixed text: every text becomes a
 * named statement that each PostgreSQL connection keeps prepared.
 *
 * A statement that returns many rows can name its columns as the row's fields
 * (`conversation_id as "conversationId"`, valid on all three engines) and say so with
 * `{ fieldNames: true }`: its rows then come back as the driver built them, without
 * Kysely's CamelCasePlugin building every row a second time key by key (a history
 * page's 50 rows of 19 columns: docs/performance-log.md, "A history page on PostgreSQL
 * against its ceiling").
 */
export class Precompiled<Row = unknown> {
  private readonly numbered: string;
  /** Prepared on each SQLite handle it ran on inside a transaction (sqlite-direct.ts). */
  private readonly direct = new WeakMap<SQLite.Database, DirectStatement<Row>>();
  /**
   * The executor `on` was last asked about, and its answer. Held weakly: a statement
   * lives as long as the process, and a strong reference kept the last transaction
   * given to it (and through it its connection and handle) alive after the transaction
   * ended, until the statement next ran elsewhere; a database closed meanwhile kept
   * its handle in memory for good.
   */
  private lastDb: WeakRef<Executor> | undefined;
  private lastStatement: DirectStatement<Row> | undefined;

  /** The statement's columns are named as the row's fields: no result plugin runs. */
  private readonly fieldNames: boolean;

  constructor(
    private readonly text: string,
    options: { fieldNames?: boolean } = {},
  ) {
    this.fieldNames = options.fieldNames ?? false;
    this.numbered = numberPlaceholders(text);
    if (!PG_NAMES.has(this.numbered)) PG_NAMES.set(this.numbered, `ec_${PG_NAMES.size + 1}`);
  }

  /** The text as `dialect` runs it (`$1`, `$2`… on PostgreSQL, `?` elsewhere): for EXPLAIN in tests. */
  textFor(dialect: string): string {
    return dialect === 'postgres' ? this.numbered : this.text;
  }

  async execute(db: Executor, parameters: unknown[]): Promise<QueryResult<Row>> {
    const statement = this.on(db);
    if (statement) return statement.run(parameters);
    const executor = db.getExecutor();
    const sql = executor.adapter instanceof PostgresAdapter ? this.numbered : this.text;
    const query = CompiledQuery.raw(sql, parameters) as CompiledQuery<Row>;
    return this.fieldNames
      ? executor.withoutPlugins().executeQuery(query)
      : db.executeQuery<Row>(query);
  }

  /**
   * The statement prepared on the SQLite handle under `db` when `db` is a transaction
   * on SQLite (sqlite-direct.ts) or holds its connection (onHeldConnection), else
   * undefined. It runs synchronously: work that
   * runs several statements in a row can run them all without a promise each
   * (PortablePairSendStore), keeping `execute` for the other engines.
   */
  on(db: Executor): DirectStatement<Row> | undefined {
    // The same transaction as the last call (a batch runs each statement once per
    // message): its answer again, without the handle's two lookups.
    if (this.lastDb !== undefined && this.lastDb.deref() === db) return this.lastStatement;
    const handle = ownsConnection(db) ? sqliteHandleOf(db.getExecutor().adapter) : undefined;
    let statement: DirectStatement<Row> | undefined;
    if (handle) {
      statement = this.direct.get(handle);
      if (!statement) this.direct.set(handle, (statement = new DirectStatement(handle, this.text)));
    }
    this.lastDb = new WeakRef(db);
    this.lastStatement = statement;
    return statement;
  }

  /** The first row, or undefined. */
  async first(db: Executor, parameters: unknown[]): Promise<Row | undefined> {
    return (await this.execute(db, parameters)).rows[0];
  }

  /** How many rows an INSERT, UPDATE or DELETE touched. */
  async affected(db: Executor, parameters: unknown[]): Promise<number> {
    return Number((await this.execute(db, parameters)).numAffectedRows ?? 0n);
  }
}

/**
 * Whether precompiled statements on `db` run synchronously (`Precompiled.on`): `db` is
 * a transaction on a SQLite handle.
 */
export function runsDirect(db: Executor): boolean {
  return ownsConnection(db) && sqliteHandleOf(db.getExecutor().adapter) !== undefined;
}

/** Handles bound to a connection held for them alone (onHeldConnection). */
const HELD = new WeakSet<object>();

/** Whether nothing but `db`'s own statements can run on its connection until it is done. */
function ownsConnection(db: Executor): boolean {
  return db.isTransaction || HELD.has(db);
}

/**
 * Runs `work` on a handle bound to one connection of `db`, held for it alone (Kysely's
 * `connection()`), without a transaction. On SQLite, precompiled statements on that
 * handle then run straight on the better-sqlite3 handle (`on`, runsDirect) as in a
 * transaction: holding SQLite's one connection is what makes that safe, since nobody's
 * transaction is open on it meanwhile nor starts (outside it, a direct statement could
 * slip into someone else's open transaction, sqlite-direct.ts). For statements run
 * often outside a transaction (the outbox relay's reads), without BEGIN and COMMIT.
 */
export function onHeldConnection<DB, T>(
  db: Kysely<DB>,
  work: (held: Kysely<DB>) => Promise<T>,
): Promise<T> {
  return db.connection().execute((held) => {
    HELD.add(held);
    return work(held);
  });
}

/** `statement.on(db)`, where runsDirect(db) was checked. */
export function directOn<Row>(statement: Precompiled<Row>, db: Executor): DirectStatement<Row> {
  const direct = statement.on(db);
  if (!direct) throw new Error('a direct statement outside a SQLite transaction');
  return direct;
}

/**
 * PostgreSQL statement names of the precompiled texts. Each connection parses and
 * plans a named statement once and then only binds and executes it, instead of
 * parsing and planning every call (pg's unnamed statement). Only these few texts
 * are named, so what a connection keeps prepared stays bounded.
 */
const PG_NAMES = new Map<string, string>();

/** The name to prepare `text` under on PostgreSQL, if it is one of the precompiled statements. */
export function preparedName(text: string): string | undefined {
  return PG_NAMES.get(text);
}

/**
 * A select list naming each column as its camelCased field (`read_seq as "readSeq"`),
 * for a statement marked `fieldNames`. Double-quoted aliases keep their case on
 * PostgreSQL and are aliases on SQLite and MySQL alike.
 */
export function columnsAsFields(fields: readonly string[]): string {
  return fields
    .map((field) => {
      const column = field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      return column === field ? column : `${column} as "${field}"`;
    })
    .join(', ');
}

/** `?` → `$1`, `$2`… (the statements given here quote no `?`). */
function numberPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${(n += 1)}`);
}
