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
 */
export class RelayLease {
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
    const updated = await db
      .updateTable('relayLeases')
      .set({ owner, expiresAt: now + ttlMs })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('owner', '=', owner), eb('expiresAt', '<', now)]))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return true;
    try {
      await db
        .insertInto('relayLeases')
        .values({ name, owner, expiresAt: now + ttlMs })
        .execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Gives the lease up so that another worker takes over at once. */
  async release(): Promise<void> {
    await this.deps.db
      .updateTable('relayLeases')
      .set({ expiresAt: 0 })
      .where('name', '=', this.deps.name)
      .where('owner', '=', this.deps.owner)
      .execute();
  }
}
