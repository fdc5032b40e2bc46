import { statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/support/test-app.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { GroupCommitter } from './group-commit.js';
import { openStorage, type Storage } from './storage.js';

/** 4 KiB pages plus each frame's 24-byte header. */
const FRAME_BYTES = 4096 + 24;

describe('WAL checkpoints in a worker thread (SQLite)', () => {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await storage?.close();
    await cleanup?.();
  });

  function open(checkpoint: { background: boolean; restartPages: number; intervalMs: number }) {
    const made = testConfig({ storage: 'sqlite' });
    cleanup = made.cleanup;
    const config = {
      ...made.config,
      storage: {
        ...made.config.storage,
        sqlite: { ...made.config.storage.sqlite, synchronous: 'full' as const, checkpoint },
      },
    };
    storage = openStorage(config, MIGRATIONS);
    const file = join(config.dataDir, config.storage.sqlite.file);
    return { storage, walBytes: () => statSync(`${file}-wal`).size };
  }

  /**
   * A writer that never pauses: four callers each commit again as soon as their last
   * commit returned, through the group commit the send path uses, `rows` rows in all.
   * Each row fills most of a page of its own, so the WAL gains a frame per row at least.
   * Between commits a caller lets the event loop turn, as a server's next send arrives
   * through it (better-sqlite3 is synchronous: without, the loop would never turn).
   */
  async function writeWithoutPause(s: Storage, rows: number, onEach: () => void): Promise<void> {
    await sql`create table load (id integer primary key, body text not null)`.execute(s.db);
    const transact = new GroupCommitter(s.db).run;
    const body = 'x'.repeat(3000);
    let left = rows;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (left > 0) {
          left -= 1;
          await transact(async (trx) => {
            await sql`insert into load (body) values (${body})`.execute(trx);
          });
          onEach();
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
  }

  it('keeps the WAL bounded under a writer that never pauses, and every row', async () => {
    const restartPages = 40;
    const { storage: s, walBytes } = open({ background: true, restartPages, intervalMs: 5 });
    await s.migrate();
    let largest = 0;
    const rows = 1_200;
    await writeWithoutPause(s, rows, () => (largest = Math.max(largest, walBytes())));
    // Without restarts the WAL would hold a frame per row at least: 30 times the bound.
    // A restart happens on the first write after the bound was reached: slack for the
    // frames written by the commits queued meanwhile and until the worker's next turn,
    // which a loaded machine delays (half the rows' frames still fails without restarts).
    expect(largest).toBeLessThan(15 * restartPages * FRAME_BYTES);
    const [{ n }] = (await sql<{ n: number }>`select count(*) as n from load`.execute(s.db))
      .rows as [{ n: number }];
    expect(n).toBe(rows);
  }, 30_000);

  it("turns SQLite's checkpoint inside COMMIT off when on", async () => {
    const { storage: s } = open({ background: true, restartPages: 40, intervalMs: 5 });
    await s.migrate();
    const { rows } = await sql<Record<string, number>>`pragma wal_autocheckpoint`.execute(s.db);
    expect(Object.values(rows[0] ?? {})).toEqual([0]);
  });

  it("leaves checkpoints to SQLite's COMMIT when background is off", async () => {
    const { storage: s } = open({ background: false, restartPages: 40, intervalMs: 5 });
    await s.migrate();
    const { rows } = await sql<Record<string, number>>`pragma wal_autocheckpoint`.execute(s.db);
    expect(Object.values(rows[0] ?? {})).toEqual([1000]);
  });
});
