import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../adapters/storage/storage-errors.js';
import type { Database } from '../adapters/storage/schema.js';
import type { Clock } from '../shared/clock.js';

/**
 * A named lease in the SQL store: at most one owner at a time, taken over only
 * after it expires. The outbox relay holds one so that, with several worker
 * processes, a single relay publishes the outbox in order. It lives in the same
 * store as the outbox, so it works on SQLite (several processes on one file) and
 * PostgreSQL alike, with no dependency on the cache driver. Acquire and renew
 * are one conditional UPDATE (compare-and-set), atomic on both engines.
 *
 * A holder renews only once half of its lease has run out: the relay asks every
 * poll (five times a second by default), and a write per poll would be a commit,
 * an fsync, per poll for nothing. Nobody else can take a lease that has not run
 * out, so holding it with at least half left is as safe as having just renewed it.
 */
export class RelayLease {
  /** When the lease this owner last wrote runs out (0: not held). */
  private heldUntil = 0;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      name: string;
      owner: string;
      ttlMs: number;
      clock: Clock;
    },
  ) {}

  get owner(): string {
    return this.deps.owner;
  }

  /** Takes or renews the lease; returns whether this owner holds it now. */
  async acquire(): Promise<boolean> {
    const { db, name, owner, ttlMs, clock } = this.deps;
    const now = clock();
    if (now < this.heldUntil - ttlMs / 2) return true;
    this.heldUntil = 0;
    const updated = await db
      .updateTable('relayLeases')
      .set({ owner, expiresAt: now + ttlMs })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('owner', '=', owner), eb('expiresAt', '<', now)]))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) {
      this.heldUntil = now + ttlMs;
      return true;
    }
    try {
      await db
        .insertInto('relayLeases')
        .values({ name, owner, expiresAt: now + ttlMs })
        .execute();
      this.heldUntil = now + ttlMs;
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Gives the lease up so that another worker takes over at once. */
  async release(): Promise<void> {
    this.heldUntil = 0;
    await this.deps.db
      .updateTable('relayLeases')
      .set({ expiresAt: 0 })
      .where('name', '=', this.deps.name)
      .where('owner', '=', this.deps.owner)
      .execute();
  }
}
