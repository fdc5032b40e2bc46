import {
  MysqlAdapter,
  PostgresAdapter,
  type InsertQueryBuilder,
  type QueryExecutorProvider,
} from 'kysely';

/**
 * The few statements MySQL (and PostgreSQL) spell differently. Everything else is the same
 * Kysely code on every engine; these keep the differences in one place.
 */

/** A Kysely instance or transaction of any database type. */
type Executor = { getExecutor(): ReturnType<QueryExecutorProvider['getExecutor']> };

/** Whether `db` (or a transaction of it) talks to MySQL/MariaDB. */
export function isMysql(db: Executor): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

/** Whether `db` (or a transaction of it) talks to PostgreSQL. */
export function isPostgres(db: Executor): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * INSERT that skips rows whose key (primary or unique) exists: ON CONFLICT DO
 * NOTHING, or INSERT IGNORE on MySQL. Either way the statement's inserted-row count
 * says which happened, so no RETURNING is needed. (IGNORE would also turn a value
 * that does not fit into a warning; values are validated before they get here.)
 */
export function skipExisting<DB, TB extends keyof DB, O>(
  db: Executor,
  insert: InsertQueryBuilder<DB, TB, O>,
): InsertQueryBuilder<DB, TB, O> {
  return isMysql(db) ? insert.ignore() : insert.onConflict((oc) => oc.doNothing());
}

/** How many rows an INSERT wrote (0 when every row was skipped as existing). */
export function insertedRows(result: { numInsertedOrUpdatedRows?: bigint }): number {
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}
