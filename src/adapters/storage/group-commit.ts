import {
  CompiledQuery,
  Kysely,
  Transaction,
  type ConnectionProvider,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryExecutor,
} from 'kysely';
import type { Dialect as SqlDialect } from './dialect.js';
import type { Database } from './schema.js';
import { sqliteConnectionOf, type SqliteConnectionTurns } from './sqlite-direct.js';
import { isStorageUnavailable, isTransientConflict } from './storage-errors.js';

/**
 * Runs one unit of work in a transaction (its own, or a shared one). `key` names
 * what the unit writes that others may write too (a send: its conversation): units
 * with different keys never lock the same rows, so a group commit may commit them in
 * batches in flight at the same time; units with the same key keep their order. A
 * unit without a key may touch anything and is committed with no other batch in flight.
 */
export type TransactionRunner = (<T>(work: UnitOfWork<T>, key?: string) => Promise<T>) & {
  /**
   * Units with the same key are run in the order this was called for them (a group
   * commit's queue), whatever their transactions' timing: a caller that has called it
   * has taken its place. Absent (a transaction per unit, on MySQL): units run as their
   * transactions go, and only one that has finished is sure to come before a later one.
   */
  readonly keepsKeyOrder?: true;
};

/**
 * A unit of work on a transaction's handle. It may answer synchronously: on SQLite,
 * where statements in a transaction run synchronously (Precompiled.on), a unit that
 * needs nothing else (the usual single-chat send) costs no promise or async frame of
 * its own, and its batch runs it without waiting a microtask for it.
 */
export type UnitOfWork<T> = (trx: Kysely<Database>) => T | Promise<T>;

/** A transaction per unit of work. */
export function eachInOwnTransaction(db: Kysely<Database>): TransactionRunner {
  return (work) => ownTransaction(db, work);
}

/** `work` in a transaction of its own (Kysely awaits what the callback returns). */
function ownTransaction<T>(db: Kysely<Database>, work: UnitOfWork<T>): Promise<T> {
  return db.transaction().execute(work as (trx: Kysely<Database>) => Promise<T>);
}

/**
 * The group commit for a store's SQL dialect: SQLite commits one writer at a time,
 * PostgreSQL also shares a batch's round trips and commits up to
 * `POSTGRES_BATCHES_IN_FLIGHT` (one) batches at once. MySQL has none (a transaction
 * per unit).
 */
export function groupCommitFor(dialect: SqlDialect, db: Kysely<Database>): GroupCommit | undefined {
  if (dialect === 'sqlite') return new GroupCommitter(db);
  if (dialect === 'postgres') {
    return new PipelinedGroupCommitter(db, {
      inFlight: POSTGRES_BATCHES_IN_FLIGHT,
      overlapAfterMs: POSTGRES_OVERLAP_AFTER_MS,
      answerAfterNextStarts: POSTGRES_ANSWER_AFTER_NEXT_STARTS,
    });
  }
  return undefined;
}

/**
 * PostgreSQL: how many batches may be in flight at once, each on a connection of its
 * own (the pool holds 10 by default). One, as the ceiling does: a batch is now one
 * statement with COMMIT behind it, so its commit is short, and the next batch gathers
 * what came meanwhile. Three in flight (the sixth session's choice, when a batch took
 * several round trips) put up to three backends on the two cores beside Node: on a
 * busy machine the round trip's p99 at 1,350 questions/s was higher with three than
 * with one in 8 of 9 same-run rounds, and alike on a quiet one (docs/performance-log.md,
 * "The PostgreSQL tail on the round's timeline, and one batch in flight"). The keyed
 * batches in flight stay for `inFlight` > 1.
 */
export const POSTGRES_BATCHES_IN_FLIGHT = 1;
/**
 * PostgreSQL: a further batch starts only once the youngest in flight has been
 * waiting this long. A quick commit is waited for, so its successor is as large as
 * with one batch in flight (one commit, one WAL flush for all of it); a slow one no
 * longer holds up the units that arrive meanwhile for other conversations.
 */
export const POSTGRES_OVERLAP_AFTER_MS = 3;
/**
 * PostgreSQL: a committed batch's units are answered once the next batch has started
 * (GroupCommitOptions.answerAfterNextStarts), so the answers and pushes of one batch
 * (about 1 ms of the loop at half capacity) run while PostgreSQL runs the next, instead
 * of before it is sent. Measured beside the committer without it, in the same runs: the
 * round trip's p50 lower in most rounds at every rate; its p99 lower in 8 of 10 rounds
 * at 3,200 questions/s on a fast host, and on a slow one the capacity 3,200 (2,700-3,600)
 * against 2,900 (2,700-3,200), with 1 of 5 rounds at 3,200/s broken against 5 of 5; the
 * CPU a message 5-14 % higher (smaller batches) (docs/performance-log.md, "A batch's
 * answers while the next one runs", "The answers after the next batch, landed").
 */
export const POSTGRES_ANSWER_AFTER_NEXT_STARTS = true;

export interface GroupCommitOptions {
  /** The most units in one batch. */
  maxBatch?: number;
  /** The most batches in flight at once (1: one after the other). */
  inFlight?: number;
  /** How long the youngest batch in flight is waited for before another starts. */
  overlapAfterMs?: number;
  /**
   * Once a batch has committed, start the next before answering its units: their
   * answers and pushes then run while the database works on the next batch, instead of
   * in series before it (the answers wait for the next turn of the event loop).
   */
  answerAfterNextStarts?: boolean;
}

interface Job {
  work: UnitOfWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** What the unit writes that others may (TransactionRunner); none: anything. */
  key?: string | undefined;
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
  /**
   * The batch failed with its COMMIT sent behind its last statements (finalStatement):
   * run it again together, COMMIT after its units, before each unit alone.
   */
  again?: boolean;
}

/** The key of the riders (runWithNextBatch): one batch in flight carries them at a time. */
const RIDERS = Symbol('riders');

/**
 * How many keys GroupCommit remembers the latest batch of; past this, those of batches
 * no longer in flight are forgotten at the next batch (a walk over all of them, once
 * per this many new keys).
 */
export const GROUP_COMMIT_KEYS_KEPT = 4096;

/**
 * Group commit: units of work that arrive in the same turn of the event loop (and
 * while a batch is being committed) form the next batch, of at most `maxBatch`
 * units, and share one transaction: one commit (one fsync, one WAL flush) instead of
 * one each. A unit's promise settles only after COMMIT has returned, so
 * "acknowledged" still means "durably stored". After a batch the event loop takes a
 * turn (sockets read, I/O callbacks run) before the next starts, so a backlog is
 * worked off one batch per turn; with `answerAfterNextStarts` (PostgreSQL, whose
 * batches wait for I/O anyway) the next starts at once and the turn comes before the
 * committed batch's units are answered. A SQLite batch may also be bounded by its units' run
 * time (GroupCommitter's `maxBatchMs`; off in groupCommitFor, see there).
 *
 * By default one batch is committed at a time. With `inFlight` > 1 a further batch
 * starts when the youngest in flight has taken `overlapAfterMs` and units are
 * waiting, up to `inFlight` batches on as many connections. Batches in flight at once
 * never share a key: a unit whose key is in flight waits for that batch (so a
 * conversation's units commit in the order they came, and its seq stays dense), and a
 * unit without a key is committed with no other batch in flight. Units with different
 * keys must lock no common rows; then two batches in flight never wait for each
 * other's locks, let alone in opposite orders (no deadlocks).
 *
 * Units share the transaction without savepoints (a savepoint per unit costs two
 * more statements each, a fair part of a message's SQL). A unit still commits or
 * fails alone: a batch in which anything failed is rolled back and each of its units
 * is run again alone, in a transaction of its own and in the order they came, so
 * it then commits or fails by itself, exactly as without group commit. Units must
 * therefore touch nothing but the database through the handle they are given (they
 * may run twice), and must not rely on seeing each other's writes. A batch that lost
 * a deadlock (to a writer outside the group commit) is run again alone the same way.
 * If the database is unavailable (connection broken, SQLite busy), nothing is run
 * again: every unit of the batch fails with the storage-unavailable error (503) and
 * nothing was stored.
 */
export abstract class GroupCommit {
  private queue: Job[] = [];
  /** Units that ride along with the next batch instead of starting one (runWithNextBatch). */
  private riders: Job[] = [];
  private ridersTimer: NodeJS.Timeout | undefined;
  /** The riders waited long enough: commit them even without a batch to ride. */
  private ridersDue = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly overlapAfterMs: number;
  private readonly answerAfterNextStarts: boolean;
  /** Batches in flight. */
  private inFlight = 0;
  /**
   * Each key's latest batch, by its number (`started` when it began): the key is busy
   * while that batch is in flight. Entries outlive their batches (up to GROUP_COMMIT_KEYS_KEPT), so
   * that taking a key writes a number into its entry instead of adding it to a set that
   * every batch grows and empties: those sets' hash tables lived across the batch's
   * commit, about 80 B a message that survived a scavenge (docs/performance-log.md, "The
   * batch's sets without per-batch tables").
   */
  private readonly batchOfKey = new Map<string | symbol, number>();
  /** The numbers of the batches in flight, 0 in a free slot (a fixed length: no resizing). */
  private readonly flying: number[];
  /** A batch with a keyless unit is in flight: nothing else starts. */
  private exclusive = false;
  /** When the youngest batch in flight started (performance.now()). */
  private lastStart = 0;
  /** A pump is due at the next turn of the event loop. */
  private pumpScheduled = false;
  private overlapTimer: NodeJS.Timeout | undefined;
  private started = 0;

  constructor(
    protected readonly db: Kysely<Database>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 100;
    this.maxInFlight = options.inFlight ?? 1;
    this.overlapAfterMs = options.overlapAfterMs ?? 0;
    this.answerAfterNextStarts = options.answerAfterNextStarts ?? false;
    this.flying = new Array<number>(this.maxInFlight).fill(0);
  }

  /**
   * How many batches have started: a unit's batch is the count when it runs, one batch
   * in flight at a time (the units' handle alone does not tell: on SQLite it is the
   * same object in every batch).
   */
  get batchesStarted(): number {
    return this.started;
  }

  readonly run: TransactionRunner = Object.assign(
    <T>(work: UnitOfWork<T>, key?: string) =>
      new Promise<T>((resolve, reject) => {
        this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject, key });
        this.kick();
      }),
    // Queued now, taken in queue order, and a key in flight holds its later units back.
    { keepsKeyOrder: true as const },
  );

  /**
   * Runs `work` first in the next batch's transaction, without starting a batch of
   * its own: for work in no hurry that would otherwise cost a commit (an fsync) by
   * itself, such as the outbox relay marking what it published. If no batch comes
   * within `withinMs`, it is committed alone. It is a unit like any other: it commits
   * or fails alone, and may run twice. It must lock no row that keyed units lock.
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
        this.pump();
      }, withinMs);
    });

  /** A unit arrived: start a batch at the next turn, or another beside those in flight. */
  private kick(): void {
    if (this.inFlight === 0) {
      // Let the units queued in this turn of the event loop join the batch.
      this.pumpNextTurn();
    } else if (this.inFlight < this.maxInFlight) {
      // Not before the next turn either, even if the youngest batch is old already.
      this.pumpIn(this.lastStart + this.overlapAfterMs - performance.now());
    }
    // Otherwise a batch that finishes starts the next.
  }

  /** Starts what batches may start now. */
  private pump(): void {
    while (this.inFlight < this.maxInFlight && !this.exclusive) {
      if (this.queue.length === 0 && !(this.ridersDue && this.riders.length > 0)) return;
      if (this.inFlight > 0) {
        const wait = this.lastStart + this.overlapAfterMs - performance.now();
        if (wait > 0) return this.pumpIn(wait);
      }
      const batch = this.take();
      if (!batch) return;
      this.start(batch);
    }
  }

  private pumpNextTurn(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pumpIn(ms: number): void {
    this.overlapTimer ??= setTimeout(
      () => {
        this.overlapTimer = undefined;
        this.pump();
      },
      Math.max(ms, 0),
    );
  }

  /**
   * The next batch: the riders (unless a batch in flight carries some), then the
   * queued units in order whose key is not in flight. A keyless unit goes only when
   * nothing is in flight, and then nothing more starts until it has.
   */
  private take(): { jobs: Job[]; exclusive: boolean } | undefined {
    if (this.batchOfKey.size > GROUP_COMMIT_KEYS_KEPT) this.forgetIdleKeys();
    // The number start() gives the batch taken here.
    const batch = this.started + 1;
    const jobs: Job[] = [];
    const rest: Job[] = [];
    let exclusive = false;
    let blockedKeyless = false;
    for (const job of this.queue) {
      if (jobs.length >= this.maxBatch || blockedKeyless) {
        rest.push(job);
      } else if (job.key === undefined) {
        if (this.inFlight === 0) {
          exclusive = true;
          jobs.push(job);
        } else {
          // Nothing after it overtakes it into a batch that could meet its rows.
          blockedKeyless = true;
          rest.push(job);
        }
      } else if (this.isBusy(job.key)) {
        rest.push(job);
      } else {
        this.batchOfKey.set(job.key, batch);
        jobs.push(job);
      }
    }
    const ridersGo =
      this.riders.length > 0 && !this.isBusy(RIDERS) && (jobs.length > 0 || this.ridersDue);
    // Nothing more starts until the keyless unit could: it may meet anyone's rows.
    if (blockedKeyless) this.exclusive = true;
    if (!ridersGo && jobs.length === 0) return undefined;
    this.queue = rest;
    if (!ridersGo) return { jobs, exclusive };
    this.batchOfKey.set(RIDERS, batch);
    return { jobs: this.takeRiders().concat(jobs), exclusive };
  }

  /** Whether a batch in flight holds `key`. */
  private isBusy(key: string | symbol): boolean {
    const batch = this.batchOfKey.get(key);
    return batch !== undefined && this.flying.includes(batch);
  }

  /** Forgets the keys of batches no longer in flight (too many keys kept). */
  private forgetIdleKeys(): void {
    for (const [key, batch] of this.batchOfKey) {
      if (!this.flying.includes(batch)) this.batchOfKey.delete(key);
    }
  }

  private takeRiders(): Job[] {
    const riders = this.riders;
    this.riders = [];
    this.ridersDue = false;
    clearTimeout(this.ridersTimer);
    this.ridersTimer = undefined;
    return riders;
  }

  private start(batch: { jobs: Job[]; exclusive: boolean }): void {
    this.started += 1;
    this.inFlight += 1;
    this.lastStart = performance.now();
    // Its keys (take) are busy from now on: a free slot exists while inFlight < maxInFlight.
    const slot = this.flying.indexOf(0);
    this.flying[slot] = this.started;
    if (batch.exclusive) this.exclusive = true;
    let landed = false;
    // The batch is no longer in flight: its keys are free, its slot too.
    const land = () => {
      if (landed) return;
      landed = true;
      this.inFlight -= 1;
      this.flying[slot] = 0;
      if (this.inFlight === 0) this.exclusive = false;
    };
    void this.commitBatch(batch.jobs, land).finally(() => {
      land();
      // The batch's continuations (answers, pushes) have run, or are due at the end of
      // this turn (answerAfterNextStarts); the event loop reads the sockets and runs the
      // I/O callbacks that came meanwhile before a batch starts here, so a backlog is
      // worked off in turns of one batch each, not in one long turn.
      this.pumpNextTurn();
    });
  }

  /** Commits `batch` and answers its units; `land` takes it out of flight early. */
  private async commitBatch(batch: Job[], land: () => void): Promise<void> {
    let together: Together;
    try {
      together = await this.inTransaction(batch, true);
      if (together.failed && together.again) together = await this.inTransaction(batch, false);
      if (!together.failed) {
        const { settled } = together;
        // Units the batch had no time for go first in the next one.
        if (settled.length < batch.length) this.queue.unshift(...batch.slice(settled.length));
        const answer = () =>
          settled.forEach((o, i) => batch[i]!.resolve((o as { value: unknown }).value));
        if (!this.answerAfterNextStarts) return answer();
        // The next batch's units run and its statements leave now (its connection is
        // taken at the next tick), then the rest of this turn's I/O; the answers at the
        // turn's end. A later batch's answers come in a later turn: units still hear in
        // the order they committed.
        land();
        this.pump();
        setImmediate(answer);
        return;
      }
    } catch (err) {
      // BEGIN, COMMIT or ROLLBACK failed: the connection is gone (or COMMIT refused).
      for (const job of batch) job.reject(err);
      return;
    }
    const { settled, failure } = together;
    if (isStorageUnavailable(failure) && !isTransientConflict(failure)) {
      batch.forEach((job, i) => {
        const outcome = settled[i];
        job.reject(outcome?.status === 'rejected' ? outcome.reason : failure);
      });
      return;
    }
    // Some unit failed (or was aborted by another's failure, or the batch lost a
    // deadlock): each alone, as it would have run without group commit, one after the
    // other in the order they came.
    for (const job of batch) {
      await ownTransaction(this.db, job.work).then(job.resolve, job.reject);
    }
  }

  /**
   * Runs the units of a batch in one transaction, committed when nothing failed and
   * rolled back otherwise. Throws (having rolled back what it could) when BEGIN,
   * COMMIT or ROLLBACK failed. `commitBehind`: COMMIT may be sent behind the units'
   * last statements (PipelinedGroupCommitter, finalStatement).
   */
  protected abstract inTransaction(
    batch: Job[],
    commitBehind: boolean,
  ): Together | Promise<Together>;
}

/**
 * Group commit for SQLite, where writes are serialized on one connection anyway and a
 * synchronous fsync per message would bound throughput. The units of a batch run one
 * after the other; at the first that fails the rest are not run (all run alone next).
 * A statement that fails on SQLite undoes only itself, so a unit that catches its
 * statement's error and goes on is fine here.
 */
export class GroupCommitter extends GroupCommit {
  private readonly maxBatchMs: number;
  /** SQLite's connection taken directly (DirectTransaction); undefined: not looked up yet. */
  private direct: DirectTransaction | null | undefined;

  /**
   * `maxBatchMs`: how long a batch's units may run: once they have run that long, the
   * batch commits with the units it ran, and the rest go to the next batch, after the
   * event loop has read its sockets. Unbounded unless given: groupCommitFor does not
   * give it, because a 5 ms bound measured on a quiet machine cost CPU (smaller
   * batches, more COMMITs) and raised the p99 at half capacity instead of lowering it
   * (docs/performance-log.md, "The 5 ms bound measured on a quiet machine").
   */
  constructor(db: Kysely<Database>, options: GroupCommitOptions & { maxBatchMs?: number } = {}) {
    super(db, options);
    this.maxBatchMs = options.maxBatchMs ?? Infinity;
  }

  protected inTransaction(batch: Job[]): Together | Promise<Together> {
    if (this.direct === undefined) this.direct = DirectTransaction.on(this.db) ?? null;
    const direct = this.direct;
    if (!direct) return this.kyselyTransaction(batch);
    const units = () => this.runUnits(direct.trx, batch, [], 0, this.deadline());
    if (direct.holdNow()) return direct.runHeld(units);
    // Someone else has the connection (a Kysely query or transaction awaiting something):
    // wait for it as they do.
    return this.db
      .getExecutor()
      .provideConnection(async (connection) => direct.run(connection, units));
  }

  /** When a batch starting now must commit (maxBatchMs). */
  private deadline(): number {
    // Unbounded (groupCommitFor's default): no clock read per batch or unit.
    return this.maxBatchMs === Infinity ? Infinity : performance.now() + this.maxBatchMs;
  }

  /** The batch in a Kysely transaction (a store that is not a DirectSqliteDialect's). */
  private async kyselyTransaction(batch: Job[]): Promise<Together> {
    const trx = await this.db.startTransaction().execute();
    try {
      const together = await this.runUnits(trx, batch, [], 0, this.deadline());
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

  /**
   * Runs the batch's units from `from` on, one after the other, into `settled`: without
   * a promise while they answer synchronously (UnitOfWork), waiting only for a unit
   * that answers with one.
   */
  private runUnits(
    trx: Kysely<Database>,
    batch: Job[],
    settled: Together['settled'],
    from: number,
    deadline: number,
  ): Together | Promise<Together> {
    for (let i = from; i < batch.length; i += 1) {
      if (settled.length > 0 && deadline !== Infinity && performance.now() >= deadline) break;
      let value: unknown;
      try {
        value = batch[i]!.work(trx);
      } catch (reason) {
        settled.push({ status: 'rejected', reason });
        return { settled, failed: true, failure: reason };
      }
      if (value instanceof Promise) {
        return value.then(
          (answer: unknown) => {
            settled.push({ status: 'fulfilled', value: answer });
            return this.runUnits(trx, batch, settled, i + 1, deadline);
          },
          (reason: unknown) => {
            settled.push({ status: 'rejected', reason });
            return { settled, failed: true, failure: reason };
          },
        );
      }
      settled.push({ status: 'fulfilled', value });
    }
    return { settled, failed: false };
  }
}

/**
 * A SQLite group commit's transactions, run on the connection itself: BEGIN, COMMIT
 * and ROLLBACK are statements prepared once and run straight on the handle, and the
 * units' handle is one Kysely transaction made once for every batch (its queries run
 * on the connection the batch holds, inside the batch's transaction), instead of
 * Kysely's `startTransaction` per batch (docs/performance-log.md, "Kysely out of the SQLite
 * group commit"). The connection is taken in turn with Kysely's queries and
 * transactions (SqliteConnectionTurns), so none of them runs inside a batch.
 */
class DirectTransaction {
  /** The units' handle; usable only while a batch's transaction is open. */
  readonly trx: Kysely<Database>;
  /** The connection of the batch whose transaction is open; none between batches. */
  private connection: DatabaseConnection | undefined;

  /** What holdNow took. */
  private held: DatabaseConnection | undefined;

  private constructor(
    private readonly turns: SqliteConnectionTurns,
    executor: QueryExecutor,
  ) {
    const provider: ConnectionProvider = {
      provideConnection: (consume) => {
        const { connection } = this;
        if (!connection) {
          return Promise.reject(new Error("a unit's handle used outside its batch's transaction"));
        }
        return consume(connection);
      },
    };
    this.trx = new Transaction<Database>({
      config: { dialect: NO_OWN_CONNECTIONS },
      dialect: NO_OWN_CONNECTIONS,
      driver: NO_OWN_CONNECTIONS,
      executor: executor.withConnectionProvider(provider),
    });
  }

  /** The direct transactions of `db`'s store, if it is SQLite's DirectSqliteDialect. */
  static on(db: Kysely<Database>): DirectTransaction | undefined {
    const executor = db.getExecutor();
    const turns = sqliteConnectionOf(executor.adapter);
    return turns && new DirectTransaction(turns, executor);
  }

  /** Takes the connection if free (SqliteConnectionTurns.holdNow); then call runHeld. */
  holdNow(): boolean {
    this.held = this.turns.holdNow();
    return this.held !== undefined;
  }

  /** `run`, on the connection holdNow took, given back after. */
  runHeld(units: () => Together | Promise<Together>): Together | Promise<Together> {
    let together: Together | Promise<Together>;
    try {
      together = this.run(this.held!, units);
    } catch (err) {
      this.turns.release();
      throw err;
    }
    if (!(together instanceof Promise)) {
      this.turns.release();
      return together;
    }
    return together.finally(() => this.turns.release());
  }

  /**
   * The units in a transaction on the held connection: committed if none failed,
   * rolled back otherwise. Throws (having rolled back what it could) when BEGIN,
   * COMMIT or ROLLBACK failed.
   */
  run(
    connection: DatabaseConnection,
    units: () => Together | Promise<Together>,
  ): Together | Promise<Together> {
    this.turns.control('begin');
    this.connection = connection;
    let together: Together | Promise<Together>;
    try {
      together = units();
    } catch (err) {
      this.abandon();
      throw err;
    }
    if (!(together instanceof Promise)) return this.end(together);
    return together.then(
      (done) => this.end(done),
      (err: unknown) => {
        this.abandon();
        throw err;
      },
    );
  }

  private end(together: Together): Together {
    this.connection = undefined;
    try {
      this.turns.control(together.failed ? 'rollback' : 'commit');
    } catch (err) {
      // A COMMIT SQLite refused (busy, disk full) leaves the transaction open.
      this.abandon();
      throw err;
    }
    return together;
  }

  /** Rolls back what it can, quietly: the error that got here is the one to report. */
  private abandon(): void {
    this.connection = undefined;
    try {
      this.turns.control('rollback');
    } catch {
      // No transaction left open (SQLite rolled it back itself), or the handle is gone.
    }
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
  protected inTransaction(batch: Job[], commitBehind: boolean): Promise<Together> {
    const executor = this.db.getExecutor();
    return executor.provideConnection(async (connection) => {
      // Settled at once, so a failed BEGIN is no unhandled rejection while units run.
      const begun = connection.executeQuery(BEGIN).then(
        () => undefined,
        (err: unknown) => ({ err }),
      );
      const ending = commitBehind ? new BatchEnding(batch.length, connection) : undefined;
      let together: Together & { statementFailed: boolean };
      try {
        together = await runTogether(executor, connection, batch, ending);
      } catch (err) {
        if (!ending?.commit) await connection.executeQuery(ROLLBACK).catch(() => undefined);
        throw err;
      }
      const beginFailed = await begun;
      if (ending?.commit) return ending.settle(together, beginFailed);
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

/**
 * The end of a pipelined batch whose COMMIT may go behind its units' last statements
 * (finalStatement): once every unit has sent its last statement, COMMIT is sent at once,
 * in the same write, instead of after their answers have come back and the units have
 * resumed. PostgreSQL then commits as soon as it has run them: no round trip and no
 * turn of Node's event loop with the transaction open between the last statement and
 * COMMIT (the batch's rows stay locked meanwhile), which at half capacity was most of
 * a batch's time (docs/performance-log.md, "COMMIT behind the batch's statement").
 *
 * A statement that failed aborted the transaction, and the COMMIT behind it answers
 * ROLLBACK: nothing was stored, and the batch runs again with COMMIT after its units
 * (`again`), then, if it fails again, each unit alone as usual.
 */
class BatchEnding {
  /** Units that declared their last statement (finalStatement). */
  private declared = 0;
  /** Units whose last statement was sent. */
  private sent = 0;
  /** COMMIT, sent behind the last statements. */
  commit: Promise<unknown> | undefined;
  /** A statement was made after COMMIT had been sent (a unit broke its word). */
  private late: Error | undefined;

  constructor(
    private readonly size: number,
    private readonly connection: DatabaseConnection,
  ) {}

  /** Whether `units` more units ending now would end the batch. */
  wouldEnd(units: number): boolean {
    return this.commit === undefined && this.declared + units === this.size;
  }

  declare(units: number): void {
    this.declared += units;
  }

  /** The last statement of `units` units was sent: COMMIT follows it if it was the last. */
  lastSent(units: number): void {
    this.sent += units;
    if (this.sent !== this.size || this.commit) return;
    const commit = this.connection.executeQuery(COMMIT);
    // Awaited in settle; a rejection before then is no unhandled one.
    commit.catch(() => undefined);
    this.commit = commit;
  }

  /** A statement after COMMIT: not sent (it would run outside the transaction). */
  refuse(): Error {
    this.late ??= new Error("a unit made a statement after its batch's COMMIT was sent");
    return this.late;
  }

  /**
   * The batch's outcome once COMMIT has answered. A failed statement aborted the
   * transaction (COMMIT rolled it back): run it again. A unit that failed without a
   * failed statement, or a statement refused after COMMIT, leaves a batch that may have
   * committed: every unit fails (nothing is run again, nothing is stored twice).
   */
  async settle(
    together: Together & { statementFailed: boolean },
    beginFailed: { err: unknown } | undefined,
  ): Promise<Together> {
    await this.commit;
    if (beginFailed) throw beginFailed.err;
    if (this.late) throw this.late;
    if (!together.failed) return together;
    if (!together.statementFailed) throw together.failure;
    return { ...together, again: true };
  }
}

/** The batch ending of each pipelined batch's units' handle (finalStatement). */
const endings = new WeakMap<Kysely<Database>, { ending: BatchEnding; final: FinalHandle }>();

type FinalHandle = (units: number) => Kysely<Database>;

/**
 * A handle for the last statement of `units` units of a pipelined batch, on that batch's
 * units' handle `trx`; undefined unless those units are all that the batch is still
 * waiting for (the others declared theirs already), or `trx` is no such handle. The
 * caller makes exactly one statement on it, now, and nothing on `trx` for those units
 * after it: COMMIT is sent right behind it. So the statement must fail (aborting the
 * transaction, which then runs again with COMMIT after its units) wherever the units
 * would otherwise go on with another statement.
 */
export function finalStatement(trx: Kysely<Database>, units: number): Kysely<Database> | undefined {
  const batch = endings.get(trx);
  if (!batch?.ending.wouldEnd(units)) return undefined;
  batch.ending.declare(units);
  return batch.final(units);
}

/**
 * Declares that `units` units of the pipelined batch of `trx` will make exactly one more
 * statement, on the handle returned: a unit that will make one
 * statement whatever comes (the outbox relay's delete riding a batch) declares it when
 * it starts, so that another unit's finalStatement sees it. Returns the handle to make
 * it on, or undefined (then use `trx`, COMMIT follows the units as usual).
 */
export function declareFinalStatement(
  trx: Kysely<Database>,
  units: number,
): Kysely<Database> | undefined {
  const batch = endings.get(trx);
  if (!batch || batch.ending.commit) return undefined;
  batch.ending.declare(units);
  return batch.final(units);
}

const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

/** Runs every unit of the batch at once on `connection` (see unserialized). */
async function runTogether(
  executor: QueryExecutor,
  connection: DatabaseConnection,
  batch: Job[],
  ending?: BatchEnding,
): Promise<Together & { statementFailed: boolean }> {
  let statementFailed = false;
  let failure: unknown;
  const onError = (err: unknown) => {
    if (!statementFailed) failure = err;
    statementFailed = true;
  };
  const shared = unserialized(executor, connection, onError, ending);
  if (ending) {
    endings.set(shared, {
      ending,
      final: (units) => unserialized(executor, connection, onError, ending, units),
    });
  }
  const settled = await Promise.allSettled(batch.map(async (job) => job.work(shared)));
  const rejected = settled.find((o) => o.status === 'rejected');
  if (statementFailed) return { settled, failed: true, failure, statementFailed };
  return { settled, failed: rejected !== undefined, failure: rejected?.reason, statementFailed };
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
  ending?: BatchEnding,
  finalFor?: number,
): Kysely<Database> {
  const tracked: DatabaseConnection = {
    executeQuery: <R>(query: CompiledQuery) => {
      if (ending?.commit) return Promise.reject(ending.refuse());
      // Sent now (pg queues it at once): a COMMIT sent next goes behind it.
      const sent = connection.executeQuery<R>(query).catch((err: unknown) => {
        onError(err);
        throw err;
      });
      if (finalFor !== undefined) ending?.lastSent(finalFor);
      return sent;
    },
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
