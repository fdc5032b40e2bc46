import type { Kysely } from 'kysely';
import { insertedRows, isMysql, isPostgres, skipExisting } from '../adapters/storage/portable.js';
import { Precompiled } from '../adapters/storage/precompiled.js';
import type { Database } from '../adapters/storage/schema.js';
import type { Clock } from '../shared/clock.js';
import { PairBatch, type Pair } from '../shared/pair-batch.js';

/** Asked and written once per event per consumer, so precompiled. */
const SEEN = new Precompiled(
  'select event_id from processed_events where consumer = ? and event_id = ?',
);
const MARK = new Precompiled(
  `insert into processed_events (consumer, event_id, processed_at) values (?, ?, ?)
   on conflict do nothing`,
);

/**
 * Many lookups, and many marks, on PostgreSQL: each one statement whatever their count,
 * the pairs going as two text arrays. A statement written with a placeholder per pair
 * was a text per count, parsed and planned by the backend on every call; these are
 * prepared once per connection (Precompiled). SQLite and MySQL keep Kysely's lists: on
 * SQLite a JSON array of pairs cost its search more than building the list saved.
 */
export const SEEN_AMONG_PG = new Precompiled<{ consumer: string; eventId: string }>(
  `select consumer, event_id from processed_events
   where (consumer, event_id) in (select * from unnest(?::text[], ?::text[]))`,
);
const MARKS_PG = new Precompiled(
  `insert into processed_events (consumer, event_id, processed_at)
   select c, e, ? from unnest(?::text[], ?::text[]) as pairs (c, e)
   on conflict do nothing`,
);

/** Marks written in one statement at most (bound parameters stay far below every store's limit). */
const MARKS_PER_STATEMENT = 500;

interface PendingMark {
  consumer: string;
  eventId: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Consumer-side de-duplication: the broker delivers at least once, so each
 * consumer records the ids it applied. For consumers that write to the database
 * the mark is part of the same transaction as the writes, so an event is applied
 * exactly once; for side effects outside the database (mail, webhooks) the mark
 * follows the effect, so only a crash between the two repeats it.
 */
export class ProcessedEvents {
  /** Marks waiting for the next write. */
  private readonly marks: PendingMark[] = [];
  private writing = false;
  /** seen()'s questions of a turn, one statement for all of them. */
  private readonly lookups: PairBatch;
  /** Statements that wrote marks, and that looked ids up, so far (for tests and metrics). */
  readonly counts = { markStatements: 0, seenStatements: 0 };

  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {
    this.lookups = new PairBatch({
      one: ([consumer, eventId]) => this.isMarked(consumer, eventId),
      many: (pairs) => this.markedAmong(pairs),
    });
  }

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

  /**
   * Whether `consumer` marked `eventId`. Asked of every event a side-effect consumer
   * takes, so the lookups asked in one turn go in one statement (a group's message to
   * 1,000 offline members is 999 notify.push events, each a lookup of its own before).
   */
  seen(consumer: string, eventId: string): Promise<boolean> {
    return this.lookups.ask(consumer, eventId);
  }

  private async isMarked(consumer: string, eventId: string): Promise<boolean> {
    this.counts.seenStatements += 1;
    return (await SEEN.first(this.deps.db, [consumer, eventId])) !== undefined;
  }

  /** Of these (consumer, event id) pairs, those marked: one statement. */
  private async markedAmong(pairs: Pair[]): Promise<Pair[]> {
    this.counts.seenStatements += 1;
    const { db } = this.deps;
    const rows = isPostgres(db)
      ? (await SEEN_AMONG_PG.execute(db, columnsOf(pairs))).rows
      : await this.markedAmongListed(pairs);
    return rows.map((r) => [r.consumer, r.eventId] as const);
  }

  /** markedAmong on SQLite and MySQL: the ids listed, by consumer. */
  private markedAmongListed(pairs: Pair[]) {
    const idsByConsumer = new Map<string, string[]>();
    for (const [consumer, eventId] of pairs) {
      const ids = idsByConsumer.get(consumer);
      if (ids) ids.push(eventId);
      else idsByConsumer.set(consumer, [eventId]);
    }
    return this.deps.db
      .selectFrom('processedEvents')
      .select(['consumer', 'eventId'])
      .where((eb) =>
        eb.or(
          [...idsByConsumer].map(([consumer, ids]) =>
            eb.and([eb('consumer', '=', consumer), eb('eventId', 'in', ids)]),
          ),
        ),
      )
      .execute();
  }

  /**
   * Records that `consumer` applied `eventId` outside the database. Marks made while
   * others are being written go in together, one statement and one commit for all
   * (each is its own commit otherwise, a sync of the file on SQLite: a third of the CPU
   * of a send to an offline recipient; docs/performance-log.md, "Sends to an offline
   * recipient"). Resolves once its mark is stored.
   */
  mark(consumer: string, eventId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.marks.push({ consumer, eventId, resolve, reject });
      // The first mark waiting starts a write after this turn of the event loop; the
      // marks made meanwhile, and while a write is on its way, go with the next.
      if (this.marks.length === 1 && !this.writing) setImmediate(() => void this.writeMarks());
    });
  }

  private async writeMarks(): Promise<void> {
    this.writing = true;
    try {
      while (this.marks.length > 0) {
        const batch = this.marks.splice(0, MARKS_PER_STATEMENT);
        try {
          await this.insertMarks(batch);
          for (const m of batch) m.resolve();
        } catch (err) {
          for (const m of batch) m.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** A repeat of a mark (a redelivery, or twice in one batch) is skipped. */
  private async insertMarks(batch: readonly PendingMark[]): Promise<void> {
    const { db, clock } = this.deps;
    const processedAt = clock();
    this.counts.markStatements += 1;
    if (batch.length === 1 && !isMysql(db)) {
      await MARK.execute(db, [batch[0]!.consumer, batch[0]!.eventId, processedAt]);
      return;
    }
    if (isPostgres(db)) {
      const consumers = batch.map((m) => m.consumer);
      await MARKS_PG.execute(db, [processedAt, consumers, batch.map((m) => m.eventId)]);
      return;
    }
    await db
      .insertInto('processedEvents')
      .values(batch.map(({ consumer, eventId }) => ({ consumer, eventId, processedAt })))
      .$call((insert) => skipExisting(db, insert))
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

/** The pairs as two arrays: the consumers, and the event ids. */
function columnsOf(pairs: readonly Pair[]): [string[], string[]] {
  return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
}
