import {
  CompiledQuery,
  Kysely,
  type ConnectionProvider,
  type DatabaseConnection,
  type Dialect,
  type Driver,
} from 'kysely';
import type { Database } from './schema.js';
import { isStorageUnavailable } from './storage-errors.js';

/** Runs one unit of work in a transaction (its own, or a shared one). */
export type TransactionRunner = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

/** A transaction per unit of work. */
export function eachInOwnTransaction(db: Kysely<Database>): TransactionRunner {
  return (work) => db.transaction().execute(work);
}

/**
 * Each unit's savepoint, as plain statements: Kysely's savepoint API builds a new
 * transaction object per call, which costs more than the savepoint itself. One
 * name serves every unit: each is released or rolled back before the next begins.
 */
const SAVEPOINT = CompiledQuery.raw('savepoint unit');
const RELEASE = CompiledQuery.raw('release savepoint unit');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint unit');

interface Job {
  work: (trx: Kysely<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The queue of a group commit: units of work that arrive in the same turn of the
 * event loop (and while a batch is being committed) form the next batch, of at most
 * `maxBatch` units; one batch is committed at a time.
 */
abstract class Batcher {
  private readonly queue: Job[] = [];
  private active = false;

  constructor(
    protected readonly db: Kysely<Database>,
    private readonly maxBatch = 100,
  ) {}

  readonly run: TransactionRunner = <T>(work: (trx: Kysely<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.active) {
        this.active = true;
        // Let the units queued in this turn of the event loop join the batch.
        setImmediate(() => void this.drain());
      }
    });

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commitBatch(this.queue.splice(0, this.maxBatch));
    this.active = false;
  }

  protected abstract commitBatch(batch: Job[]): Promise<void>;
}

/**
 * Group commit: units of work that arrive together share one transaction, so
 * they cost one commit (one fsync) instead of one each, and each unit still
 * commits or fails alone because it runs inside its own savepoint. A unit's
 * promise settles only after the shared commit, so "acknowledged" still means
 * "durably stored". Used on SQLite, where writes are serialized on one
 * connection anyway and a synchronous fsync per message would bound throughput.
 */
export class GroupCommitter extends Batcher {
  protected async commitBatch(batch: Job[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    let trx;
    try {
      trx = await this.db.startTransaction().execute();
      for (const job of batch) {
        await trx.executeQuery(SAVEPOINT);
        try {
          outcomes.push({ ok: true, value: await job.work(trx) });
          await trx.executeQuery(RELEASE);
        } catch (err) {
          outcomes.push({ ok: false, err });
          await trx.executeQuery(ROLLBACK_TO);
          await trx.executeQuery(RELEASE);
        }
      }
      await trx.commit().execute();
    } catch (err) {
      // The shared transaction itself failed: nothing of this batch was stored.
      await trx
        ?.rollback()
        .execute()
        .catch(() => undefined);
      for (const job of batch) job.reject(err);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.err);
    });
  }
}

/**
 * Group commit for PostgreSQL, where what a message costs is mostly round trips: each
 * statement is a wake-up of the server and of Node. The units of a batch run all at
 * once in one transaction on one connection in pipeline mode, so the batch's first
 * statements travel together, then its second ones, and so on: a batch of fifty sends
 * costs about as many round trips as one send, and one commit (one WAL flush).
 *
 * Units share the transaction without savepoints (a savepoint per unit is two more
 * statements each). PostgreSQL aborts the whole transaction at the first failing
 * statement, so a batch in which any statement failed is rolled back and each of its
 * units is run again alone, in a transaction of its own: it then commits or fails by
 * itself. Units must therefore touch nothing but the database through the handle
 * they are given (they may run twice), and must not rely on seeing each other's
 * writes in any order. If the connection broke, nothing is run again: every unit of
 * the batch fails with the storage-unavailable error (503) and nothing was committed.
 * A unit's promise settles only after COMMIT has returned: acknowledged = committed.
 */
export class PipelinedGroupCommitter extends Batcher {
  protected async commitBatch(batch: Job[]): Promise<void> {
    let trx;
    let failure: unknown;
    let outcomes: Array<PromiseSettledResult<unknown>>;
    try {
      trx = await this.db.startTransaction().execute();
      const shared = await unserialized(trx, (err) => (failure ??= err));
      outcomes = await Promise.allSettled(batch.map(async (job) => job.work(shared)));
      // A unit that caught a statement's error still leaves the transaction aborted.
      if (failure === undefined && outcomes.every((o) => o.status === 'fulfilled')) {
        await trx.commit().execute();
        outcomes.forEach((o, i) => batch[i]!.resolve(o.value));
        return;
      }
      await trx.rollback().execute();
    } catch (err) {
      // BEGIN, COMMIT or ROLLBACK failed: the connection is gone (or COMMIT refused).
      await trx
        ?.rollback()
        .execute()
        .catch(() => undefined);
      for (const job of batch) job.reject(err);
      return;
    }
    if (isStorageUnavailable(failure)) {
      outcomes.forEach((o, i) => batch[i]!.reject(o.status === 'rejected' ? o.reason : failure));
      return;
    }
    // Some unit failed (or was aborted by another's failure): each alone, as it would
    // have run without group commit, one after the other in the order they came.
    for (const job of batch) {
      await this.db.transaction().execute(job.work).then(job.resolve, job.reject);
    }
  }
}

/**
 * The units' handle on the batch's transaction. Kysely runs one query at a time on a
 * transaction's connection (each waits for the one before), which would turn the
 * batch back into one round trip per statement; this handle sends each query as soon
 * as it is made, and pg's pipeline mode answers them in order. `onError` hears every
 * statement that failed, even one whose unit caught the error.
 */
async function unserialized(
  trx: Kysely<Database>,
  onError: (err: unknown) => void,
): Promise<Kysely<Database>> {
  const executor = trx.getExecutor();
  const connection = await executor.provideConnection(async (c) => c);
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
