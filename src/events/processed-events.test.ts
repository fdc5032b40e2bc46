import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../test/support/backends.js';
import { testConfig } from '../../test/support/test-app.js';
import { openStorage, type Storage } from '../adapters/storage/storage.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { ProcessedEvents, SEEN_AMONG_PG } from './processed-events.js';

describe.each(STORAGES)('processed events on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function storage(): Promise<Storage> {
    const made = testConfig({ storage: dialect });
    cleanups.push(made.cleanup);
    const s = openStorage(made.config, MIGRATIONS);
    cleanups.push(() => s.close());
    await s.migrate();
    return s;
  }

  it('writes the marks made together in one statement, and each is seen after', async () => {
    const s = await storage();
    const processed = new ProcessedEvents({ db: s.db, clock: () => 1_000 });
    const ids = Array.from({ length: 20 }, (_, n) => `e${n}`);
    // A repeat in the same batch (a redelivery handled twice at once) is stored once.
    await Promise.all([...ids, 'e3'].map((id) => processed.mark('notify.push', id)));
    expect(processed.counts.markStatements).toBe(1);
    for (const id of ids) expect(await processed.seen('notify.push', id)).toBe(true);
    expect(await processed.seen('notify.sms', 'e1')).toBe(false);
    const { rows } = await sql<{
      n: number | string;
    }>`select count(*) as n from processed_events`.execute(s.db);
    expect(Number(rows[0]!.n)).toBe(20);

    // A mark made alone, and one of an id already marked, are written and skipped alike.
    await processed.mark('notify.push', 'e20');
    await processed.mark('notify.push', 'e1');
    expect(processed.counts.markStatements).toBe(3);
    expect(await processed.seen('notify.push', 'e20')).toBe(true);
    // Two consumers' marks made together: one statement too.
    await Promise.all([processed.mark('notify.sms', 'e1'), processed.mark('notify.email', 'e1')]);
    expect(processed.counts.markStatements).toBe(4);
    expect(await processed.seen('notify.sms', 'e1')).toBe(true);
  });

  it('marks made while a write is on its way go with the next one', async () => {
    const s = await storage();
    const processed = new ProcessedEvents({ db: s.db, clock: () => 1_000 });
    const first = processed.mark('notify.push', 'a');
    // After the first write has started (a turn of the event loop later).
    await new Promise((r) => setImmediate(r));
    const later = Array.from({ length: 5 }, (_, n) => processed.mark('notify.push', `b${n}`));
    await Promise.all([first, ...later]);
    for (const id of ['a', 'b0', 'b4']) expect(await processed.seen('notify.push', id)).toBe(true);
  });

  it('fails every mark of a write that fails, and writes the next ones', async () => {
    const s = await storage();
    const processed = new ProcessedEvents({ db: s.db, clock: () => 1_000 });
    await sql`alter table processed_events rename to processed_events_away`.execute(s.db);
    const failed = await Promise.allSettled(
      ['x', 'y'].map((id) => processed.mark('notify.push', id)),
    );
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await sql`alter table processed_events_away rename to processed_events`.execute(s.db);
    await processed.mark('notify.push', 'z');
    expect(await processed.seen('notify.push', 'z')).toBe(true);
    expect(await processed.seen('notify.push', 'x')).toBe(false);
  });

  it('looks up the ids asked together in one statement, each answered alone', async () => {
    const s = await storage();
    const processed = new ProcessedEvents({ db: s.db, clock: () => 1_000 });
    await Promise.all(['e1', 'e3', 'e5'].map((id) => processed.mark('notify.push', id)));
    await processed.mark('notify.sms', 'e2');
    const asked = ['e1', 'e2', 'e3', 'e4', 'e5', 'e1'];
    const before = processed.counts.seenStatements;
    const [push, sms] = await Promise.all([
      Promise.all(asked.map((id) => processed.seen('notify.push', id))),
      Promise.all(asked.map((id) => processed.seen('notify.sms', id))),
    ]);
    expect(push).toEqual([true, false, true, false, true, true]);
    expect(sms).toEqual([false, true, false, false, false, false]);
    // Two consumers' lookups, repeats among them: one statement.
    expect(processed.counts.seenStatements - before).toBe(1);

    // A failed lookup fails the ids asked with it, and the next are answered.
    await sql`alter table processed_events rename to processed_events_away`.execute(s.db);
    const failed = await Promise.allSettled(
      ['e1', 'e4'].map((id) => processed.seen('notify.push', id)),
    );
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await sql`alter table processed_events_away rename to processed_events`.execute(s.db);
    expect(await processed.seen('notify.push', 'e1')).toBe(true);
  });
  it.runIf(dialect === 'postgres')(
    'looks many ids up through the primary key, in the plan PostgreSQL keeps for every count',
    async () => {
      const s = await storage();
      // Enough marks that a scan of the table would be a plan's mistake worth seeing.
      await sql`insert into processed_events (consumer, event_id, processed_at)
        select 'notify.push', 'e' || n, n from generate_series(1, 5000) as n`.execute(s.db);
      await sql`analyze processed_events`.execute(s.db);
      // The generic plan, made without the arrays' values: what a named statement runs
      // after its first few calls, whatever the number of ids.
      const plan = await s.db.connection().execute(async (db) => {
        await sql`set plan_cache_mode = force_generic_plan`.execute(db);
        try {
          await sql.raw(`prepare seen_among as ${SEEN_AMONG_PG.textFor(dialect)}`).execute(db);
          const { rows } = await sql<{
            'QUERY PLAN': string;
          }>`explain execute seen_among('{notify.push}', '{e1}')`.execute(db);
          return rows.map((r) => r['QUERY PLAN']).join(' | ');
        } finally {
          await sql`deallocate seen_among`.execute(db);
          await sql`reset plan_cache_mode`.execute(db);
        }
      });
      expect(plan).toMatch(/Index (Only )?Scan using processed_events_pk/);
      expect(plan).not.toMatch(/Seq Scan/);
      const processed = new ProcessedEvents({ db: s.db, clock: () => 1_000 });
      const found = await Promise.all(
        ['e1', 'e5000', 'e5001'].map((id) => processed.seen('notify.push', id)),
      );
      expect(found).toEqual([true, true, false]);
    },
  );
});
