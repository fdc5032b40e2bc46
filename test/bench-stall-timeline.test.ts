import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '../bench/support/stall-timeline.cjs');

describe('bench stall timeline: the slowest 1 % beside the server', () => {
  it('joins the two generators of a step and lists only the events around its slowest 1 %', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stall-timeline-'));
    const start = 1_000_000;
    // Two generators, 150 round trips each: 3 make the slowest 1 %, sent 5.0–5.1 s in.
    const dump = [
      `# step 9. start ${start} rate 75 n 150`,
      `${start + 5_000} 60.0 1 50 1 8`,
      `${start + 5_050} 55.0 1 45 1 8`,
      `${start + 1_000} 14.0 1 5 1 7`,
      `# step 9. start ${start + 2} rate 75 n 150`,
      `${start + 5_100} 58.0 1 48 1 8`,
      `${start + 8_000} 13.0 1 4 1 7`,
      `# step a. start ${start + 20_000} rate 75 n 150`,
      `${start + 21_000} 40.0 1 30 1 8`,
    ].join('\n');
    const probe = [
      `${start + 900} t0 stall 8.0`,
      `${start + 4_950} t0 gc kind 8 3.5 start ${start + 4_946}`,
      `${start + 5_060} t0 gc kind 4 13.0 start ${start + 5_047}`,
      `${start + 5_070} t1 sql 9.0 pragma wal_checkpoint(PASSIVE)`,
      `${start + 7_000} t0 stall 12.0`,
    ].join('\n');
    writeFileSync(join(dir, 'slow.txt'), `${dump}\n`);
    writeFileSync(join(dir, 'stall.log'), `${probe}\n`);
    const out = execFileSync(
      'node',
      [script, join(dir, 'slow.txt'), join(dir, 'stall.log'), '9.'],
      {
        encoding: 'utf8',
      },
    );
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe(
      'step 9. 150/s, 300 round trips: slowest 1 % 55–60 ms, sent at (ms into the step: count) 5000: 2, 5100: 1',
    );
    // From 150 ms before the first to the last one's answer, nothing else.
    expect(lines.slice(1).map((l) => l.trim())).toEqual([
      `4950 t0 gc kind 8 3.5 start ${start + 4_946}`,
      `5060 t0 gc kind 4 13.0 start ${start + 5_047}`,
      '5070 t1 sql 9.0 pragma wal_checkpoint(PASSIVE)',
    ]);
  });
});
