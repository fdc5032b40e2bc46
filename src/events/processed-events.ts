import type { Kysely } from 'kysely';
import { insertedRows, isMysql, skipExisting } from '../adapters/storage/portable.js';
import { Precompiled } from '../adapters/storage/precompiled.js';
import type { Database } from '../adapters/storage/schema.js';
import type { Clock } from '../shared/clock.js';

/** Asked and written once per event per consumer, so precompiled. */
const SEEN = new Precompiled(
  'select event_id from processed_events where consumer = ? and event_id = ?',
);
const MARK = new Precompiled(
  `insert into processed_events (consumer, event_id, processed_at) values (?, ?, ?)
   on conflict do nothing`,
);

/**
 * Consumer-side de-duplication: the broker delivers at least once, so each
 * consumer records the ids it applied. For consumers that write to the database
 * the mark is part of the same transaction as the writes, so an event is applied
 * exactly once; for side effects outside the database (mail, webhooks) the mark
 * follows the effect, so only a crash between the two repeats it.
 */
export class ProcessedEvents {
  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {}

  /** Runs `apply` in a transaction unless `consumer` already applied `eventId`; returns whether it ran. */
  async once(
    consumer: string,
    eventId: string,
    apply: (trx: Kysely<Database>) => Promise<void>,
  ): Promise<boolean> {
    return this.deps.db.transaction().execute(async (trx) => {
      // Skipping the existing row (rather than catching the violation) leaves a
      // PostgreSQL transaction usable.
      const result = await trx
        .insertInto('processedEvents')
        .values({ consumer, eventId, processedAt: this.deps.clock() })
        .$call((insert) => skipExisting(trx, insert))
        .executeTakeFirst();
      if (insertedRows(result) === 0) return false;
      await apply(trx);
      return true;
    });
  }

  async seen(consumer: string, eventId: string): Promise<boolean> {
    return (await SEEN.first(this.deps.db, [consumer, eventId])) !== undefined;
  }

  async mark(consumer: string, eventId: string): Promise<void> {
    const { db, clock } = this.deps;
    if (!isMysql(db)) {
      await MARK.execute(db, [consumer, eventId, clock()]);
      return;
    }
    await this.deps.db
      .insertInto('processedEvents')
      .values({ consumer, eventId, processedAt: this.deps.clock() })
      .$call((insert) => skipExisting(this.deps.db, insert))
      .execute();
  }

  /** Forgets marks older than `before` (epoch ms); redeliveries that late are not expected. */
  async prune(before: number): Promise<number> {
    const result = await this.deps.db
      .deleteFrom('processedEvents')
      .where('processedAt', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
