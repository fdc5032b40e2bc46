import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';

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
 * Group commit: units of work that arrive together share one transaction, so
 * they cost one commit (one fsync) instead of one each, and each unit still
 * commits or fails alone because it runs inside its own savepoint. A unit's
 * promise settles only after the shared commit, so "acknowledged" still means
 * "durably stored". Used on SQLite, where writes are serialized on one
 * connection anyway and a synchronous fsync per message would bound throughput.
 */
export class GroupCommitter {
  private readonly queue: Job[] = [];
  private active = false;

  constructor(
    private readonly db: Kysely<Database>,
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

  private async commitBatch(batch: Job[]): Promise<void> {
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
