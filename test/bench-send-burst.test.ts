import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSendBurst, type BurstSystem } from '../bench/send-burst.js';
import { figureOf } from '../bench/support/figure.js';
import { cleanupAll } from '../bench/support/run.js';
import { TEST_DATABASE_URL } from './support/backends.js';

/** bench:burst, tiny: every system answers every burst, and the figures are medians of rounds. */
describe('bench:burst, tiny', () => {
  beforeAll(() => {
    // Servers from src/ under tsx (the suite does not build dist/).
    process.env.BENCH_SERVER_FROM_SOURCE = '1';
  });
  afterAll(async () => {
    await cleanupAll();
  });

  it('takes the median of the rounds with its range (the upper median of an even count)', () => {
    expect(figureOf([30, 10, 20])).toMatchObject({ median: 20, min: 10, max: 30 });
    expect(figureOf([4, 1, 3, 2])).toEqual({ median: 3, min: 1, max: 4, rounds: [4, 1, 3, 2] });
  });

  it('times a burst of sends on one connection beside the ceiling of each store', async () => {
    const systems: BurstSystem[] = [
      'easy-chat-sqlite',
      'ceiling',
      ...(TEST_DATABASE_URL ? (['easy-chat-postgres', 'ceiling-postgres'] as const) : []),
    ];
    const r = await runSendBurst({ systems, burst: 8, bursts: 2, rounds: 2 });
    expect(r.rows.map((row) => row.store)).toEqual(
      systems.map((s) => (s.endsWith('postgres') ? 'postgres' : 'sqlite')),
    );
    for (const row of r.rows) {
      expect(row.burstMs.rounds).toHaveLength(2);
      expect(row.burstMs.median).toBeGreaterThan(0);
      expect(row.burstMs.min).toBeLessThanOrEqual(row.burstMs.max);
      expect(row.cpuPerMessage.median).toBeGreaterThan(0);
    }
  }, 180_000);
});
