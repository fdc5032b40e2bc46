/**
 * A smoke run of bench/files.ts with tiny sizes, so the script keeps working: both
 * servers start, every upload is stored (the script checks each answer's size), and
 * the figures come out. The full run (npm run bench:files) stays out of CI.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeFiles, runFiles } from '../bench/files.js';
import { cleanupAll } from '../bench/support/run.js';

beforeAll(() => {
  // The server from src/ under tsx (the suite does not build dist/).
  process.env.BENCH_SERVER_FROM_SOURCE = '1';
});
afterAll(async () => {
  await cleanupAll();
});

it('bench:files: uploads to easy-chat and to the stream-to-disk ceiling, with CPU and memory', async () => {
  const r = await runFiles({
    fileMiB: 0.25,
    files: 4,
    parallel: 2,
    rounds: 1,
    burst: 2,
    burstMiB: 0.5,
  });
  for (const side of [r.easyChat, r.ceiling]) {
    expect(side.mibPerSec.median).toBeGreaterThan(0);
    expect(side.cpuUsPerMiB.median).toBeGreaterThanOrEqual(0);
    expect(side.burst.peakMiB).toBeGreaterThanOrEqual(side.burst.idleMiB);
    expect(side.burst.idleMiB).toBeGreaterThan(10);
  }
  expect(describeFiles(r)).toContain('easy-chat / ceiling');
}, 120_000);
