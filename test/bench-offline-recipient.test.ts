import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOfflineRecipient } from '../bench/offline-recipient.js';
import { cleanupAll } from '../bench/support/run.js';
import { TEST_DATABASE_URL } from './support/backends.js';

/** bench:offline, tiny: every stage of every store gives its CPU a send and memory. */
describe('bench:offline, tiny', () => {
  beforeAll(() => {
    // Servers from src/ under tsx (the suite does not build dist/).
    process.env.BENCH_SERVER_FROM_SOURCE = '1';
  });
  afterAll(async () => {
    await cleanupAll();
  });

  it('sends to a recipient who never connects, stage by stage', async () => {
    const stores = TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
    const r = await runOfflineRecipient({
      stores: [...stores],
      sends: 5,
      stages: 3,
      pushWindowMs: 0,
    });
    // The push path ran: the servers' pushes reached the webhook.
    expect(r.webhookCalls).toBeGreaterThan(0);
    expect(r.rows.map((row) => row.store)).toEqual([...stores]);
    for (const row of r.rows) {
      expect(row.cpuPerSend).toHaveLength(3);
      expect(row.rssMb).toHaveLength(3);
      for (const cpu of row.cpuPerSend) expect(cpu).toBeGreaterThan(0);
      expect(row.growth).toBeGreaterThan(0);
      expect(row.cpu.median).toBe([...row.cpuPerSend].sort((a, b) => a - b)[1]);
    }
  }, 180_000);
});
