import {
  CompiledQuery,
  Kysely,
  type ConnectionProvider,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryExecutor,
} from 'kysely';
import type { Dialect as SqlDialect } from './dialect.js';
import type { Database } from './schema.js';
import { isStorageUnavailable } from './storage-errors.js';

/** Runs one unit of work in a transaction (its own, or a shared one). */
export type TransactionRunner = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

/** A transaction per unit of work. */
export function eachInOwnTransaction(db: Kysely<Database>): TransactionRunner {
  return (work) => db.transaction().execute(work);
}

/**
 * The group commit for a store's SQL dialect: SQLite commits one writer at a time,
 * PostgreSQL also shares a batch's round trips. MySQL has none (a transaction per unit).
 */
export function groupCommitFor(dialect: SqlDialect, db: Kysely<Database>): GroupCommit | undefined {
  if (dialect === 'sqlite') return new GroupCommitter(db, undefined, SQLITE_BATCH_MS);
  if (dialect === 'postgres') return new PipelinedGroupCommitter(db);
  return undefined;
}

interface Job {
  work: (trx: Kysely<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** How the units of a batch went in the shared transaction. */
interface Together {
  /**
   * Each unit's outcome, in batch order (units not run yet have none). A batch that
   * did not fail may have run only its first units (its time was up): the others
   * were not run and go to the next batch.
   */
  settled: Array<PromiseSettledResult<unknown>>;
  /** Whether anything failed (a unit, or a statement whose error its unit caught). */
  failed: boolean;
  /** The first error of the batch. */
  failure?: unknown;
}

/**
 * Group commit: units of work that arrive in the same turn of the event loop (and
 * while a batch is being committed) form the next batch, of at most `maxBatch`
 * units, and share one transaction: one commit (one fsync, one WAL flush) instead of
 * one each. One batch is committed at a time. A unit's promise settles only after
 * COMMIT has returned, so "acknowledged" still means "durably stored". Between two
 * batches the event loop takes a turn (sockets read, I/O callbacks run), so a backlog
 * is worked off one batch per turn; on SQLite a batch also ends once its units have
 * run for SQLITE_BATCH_MS, the rest going first into the next batch.
 *
 * Units share the transaction without savepoints (a savepoint per unit costs two
 * more statements each, a fair part of a message's SQL). A unit still commits or
 * fails alone: a batch in which anything failed is rolled back and each of its units
 * is run again alone, in a transaction of its own and in the order they came, so
 * it then commits or fails by itself, exactly as without group commit. Units must
 * therefore touch nothing but the database through the handle they are given (they
 * may run twice), and must not rely on seeing each other's writes. If the database
 * is unavailable (connection broken, SQLite busy), nothing is run again: every unit
 * of the batch fails with the storage-unavailable error (503) and nothing was stored.
 */
export abstract class GroupCommit {
  private readonly queue: Job[] = [];
  /** Units that ride along with the next batch instead of starting one (runWithNextBatch). */
  private riders: Job[] = [];
  private ridersTimer: NodeJS.Timeout | undefined;
  /** The riders waited long enough: commit them even without a batch to ride. */
  private ridersDue = false;
  private active = false;

  constructor(
    protected readonly db: Kysely<Database>,
    private readonly maxBatch = 100,
  ) {}

  readonly run: TransactionRunner = <T>(work: (trx: Kysely<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      // Let the units queued in this turn of the event loop join the batch.
      this.kick(true);
    });

  /**
   * Runs `work` first in the next batch's transaction, without starting a batch of
   * its own: for work in no hurry that would otherwise cost a commit (an fsync) by
   * itself, such as the outbox relay marking what it published. If no batch comes
   * within `withinMs`, it is committed alone. It is a unit like any other: it commits
   * or fails alone, and may run twice.
   */
  readonly runWithNextBatch = <T>(
    work: (trx: Kysely<Database>) => Promise<T>,
    withinMs: number,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.riders.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.ridersTimer ??= setTimeout(() => {
        this.ridersTimer = undefined;
        this.ridersDue = true;
        this.kick(false);
      }, withinMs);
    });

  private kick(nextTurn: boolean): void {
    if (this.active) return;
    this.active = true;
    if (nextTurn) setImmediate(() => void this.drain());
    else void this.drain();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = this.takeRiders().concat(this.queue.splice(0, this.maxBatch));
      await this.commitBatch(batch);
      if (!this.hasWork()) break;
      // The batch's continuations (answers, pushes) have run; before the next batch the
      // event loop reads the sockets and runs the I/O callbacks that came meanwhile,
      // so a backlog is worked off in turns of one batch each, not in one long turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.active = false;
  }

  private hasWork(): boolean {
    return this.queue.length > 0 || (this.ridersDue && this.riders.length > 0);
  }

  private takeRiders(): Job[] {
    const riders = this.riders;
    if (riders.length === 0) return riders;
    this.riders = [];
    this.ridersDue = false;
    clearTimeout(this.ridersTimer);
    this.ridersTimer = undefined;
    return riders;
  }

  private async commitBatch(batch: Job[]): Promise<void> {
    let together: Together;
    try {
      together = await this.inTransaction(batch);
      if (!together.failed) {
        together.settled.forEach((o, i) => batch[i]!.resolve((o as { value: unknown }).value));
        // Units the batch had no time for go first in the next one.
        if (together.settled.length < batch.length) {
          this.queue.unshift(...batch.slice(together.settled.length));
        }
        return;
      }
    } catch (err) {
      // BEGIN, COMMIT or ROLLBACK failed: the connection is gone (or COMMIT refused).
      for (const job of batch) job.reject(err);
      return;
    }
    const { settled, failure } = together;
    if (isStorageUnavailable(failure)) {
      batch.forEach((job, i) => {
        const outcome = settled[i];
        job.reject(outcome?.status === 'rejected' ? outcome.reason : failure);
      });
      return;
    }
    // Some unit failed (or was aborted by another's failure): each alone, as it would
    // have run without group commit, one after the other in the order they came.
    for (const job of batch) {
      await this.db.transaction().execute(job.work).then(job.resolve, job.reject);
    }
  }

  /**
   * Runs the units of a batch in one transaction, committed when nothing failed and
   * rolled back otherwise. Throws (having rolled back what it could) when BEGIN,
   * COMMIT or ROLLBACK failed.
   */
  protected abstract inTransaction(batch: Job[]): Promise<Together>;
}

/**
 * How long the units of a SQLite batch may run (ms) before the batch commits without
 * the rest: the event loop reads no socket while they run (better-sqlite3 is
 * synchronous, a unit's awaits are microtasks), and a batch's answers and pushes
 * follow its commit in the same turn.
 */
const SQLITE_BATCH_MS = 5;

/**
 * Group commit for SQLite, where writes are serialized on one connection anyway and a
 * synchronous fsync per message would bound throughput. The units of a batch run one
 * after the other; at the first that fails the rest are not run (all run alone next).
 * A statement that fails on SQLite undoes only itself, so a unit that catches its
 * statement's error and goes on is fine here.
 */
export class GroupCommitter extends GroupCommit {
  /**
   * @param maxBatchMs how long a batch's units may run: once they have run that long,
   *   the batch commits with the units it ran, and the rest go to the next batch, after
   *   the event loop has read its sockets (see GroupCommit.drain). Unbounded unless
   *   given (groupCommitFor gives SQLITE_BATCH_MS).
   */
  constructor(
    db: Kysely<Database>,
    maxBatch?: number,
    private readonly maxBatchMs = Infinity,
  ) {
    super(db, maxBatch);
  }

  protected async inTransaction(batch: Job[]): Promise<Together> {
    const trx = await this.db.startTransaction().execute();
    try {
      const together = await this.runInTurn(trx, batch);
      await (together.failed ? trx.rollback() : trx.commit()).execute();
      return together;
    } catch (err) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      throw err;
    }
  }

  private async runInTurn(trx: Kysely<Database>, batch: Job[]): Promise<Together> {
    const settled: Together['settled'] = [];
    const started = performance.now();
    for (const job of batch) {
      if (settled.length > 0 && performance.now() - started >= this.maxBatchMs) break;
      try {
        settled.push({ status: 'fulfilled', value: await job.work(trx) });
      } catch (reason) {
        settled.push({ status: 'rejected', reason });
        return { settled, failed: true, failure: reason };
      }
    }
    return { settled, failed: false };
  }
}

/**
 * Group commit for PostgreSQL, where what a message costs is mostly round trips: each
 * statement is a wake-up of the server and of Node. The units of a batch run all at
 * once in one transaction on one connection in pipeline mode, so the batch's first
 * statements travel together, then its second ones, and so on: a batch of fifty sends
 * costs about as many round trips as one send, and one commit (one WAL flush).
 * PostgreSQL aborts the whole transaction at the first failing statement, so a
 * statement that failed fails the batch even if its unit caught the error.
 *
 * BEGIN is not a round trip of its own either: it is sent and the units' first
 * statements follow it at once, answered in order behind it. BEGIN fails only when
 * the connection does, and then so does everything sent after it, so the units never
 * run outside the transaction while their batch is acknowledged; if it ever failed
 * alone, the batch is failed (503) like any batch whose BEGIN failed, and a statement
 * that slipped through in autocommit is a stored, unacknowledged message that the
 * client's retry finds by its idempotency key.
 */
export class PipelinedGroupCommitter extends GroupCommit {
  protected inTransaction(batch: Job[]): Promise<Together> {
    const executor = this.db.getExecutor();
    return executor.provideConnection(async (connection) => {
      // Settled at once, so a failed BEGIN is no unhandled rejection while units run.
      const begun = connection.executeQuery(BEGIN).then(
        () => undefined,
        (err: unknown) => ({ err }),
      );
      let together: Together;
      try {
        together = await runTogether(executor, connection, batch);
      } catch (err) {
        await connection.executeQuery(ROLLBACK).catch(() => undefined);
        throw err;
      }
      const beginFailed = await begun;
      if (beginFailed) {
        await connection.executeQuery(ROLLBACK).catch(() => undefined);
        throw beginFailed.err;
      }
      // COMMIT of a transaction a statement aborted answers ROLLBACK, no error; the
      // batch is known failed here anyway and goes to ROLLBACK.
      await connection.executeQuery(together.failed ? ROLLBACK : COMMIT);
      return together;
    });
  }
}

const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

/** Runs every unit of the batch at once on `connection` (see unserialized). */
async function runTogether(
  executor: QueryExecutor,
  connection: DatabaseConnection,
  batch: Job[],
): Promise<Together> {
  let statementFailed = false;
  let failure: unknown;
  const shared = unserialized(executor, connection, (err) => {
    if (!statementFailed) failure = err;
    statementFailed = true;
  });
  const settled = await Promise.allSettled(batch.map(async (job) => job.work(shared)));
  const rejected = settled.find((o) => o.status === 'rejected');
  if (statementFailed) return { settled, failed: true, failure };
  return { settled, failed: rejected !== undefined, failure: rejected?.reason };
}

/**
 * The units' handle on the batch's transaction. Kysely runs one query at a time on a
 * transaction's connection (each waits for the one before), which would turn the
 * batch back into one round trip per statement; this handle sends each query as soon
 * as it is made, and pg's pipeline mode answers them in order. `onError` hears every
 * statement that failed, even one whose unit caught the error.
 */
function unserialized(
  executor: QueryExecutor,
  connection: DatabaseConnection,
  onError: (err: unknown) => void,
): Kysely<Database> {
  const tracked: DatabaseConnection = {
    executeQuery: <R>(query: CompiledQuery) =>
      connection.executeQuery<R>(query).catch((err: unknown) => {
        onError(err);
        throw err;
      }),
    streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
  };
  const provider: ConnectionProvider = { provideConnection: (consume) => consume(tracked) };
  return new Kysely<Database>({
    config: { dialect: NO_OWN_CONNECTIONS },
    dialect: NO_OWN_CONNECTIONS,
    driver: NO_OWN_CONNECTIONS,
    executor: executor.withConnectionProvider(provider),
  });
}

/**
 * The driver and dialect of the units' handle: a unit runs in the batch's transaction
 * and cannot open a transaction or connection of its own.
 */
const NO_OWN_CONNECTIONS = new Proxy(
  {},
  {
    get() {
      throw new Error("a group commit's unit cannot open transactions or connections");
    },
  },
) as Driver & Dialect;
