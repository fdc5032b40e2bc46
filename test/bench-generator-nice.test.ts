import { afterEach, describe, expect, it } from 'vitest';
import { generatorNice, Worker } from '../bench/support/worker-pool.js';
import { threadNiceness } from './support/proc-threads.js';

describe('BENCH_GENERATOR_NICE (the load generators yield to the servers)', () => {
  afterEach(() => {
    delete process.env.BENCH_GENERATOR_NICE;
  });

  it("is 0, the servers' niceness, unless set", () => {
    expect(generatorNice()).toBe(0);
    process.env.BENCH_GENERATOR_NICE = '10';
    expect(generatorNice()).toBe(10);
  });

  it('refuses what is not a niceness a process can lower itself to', () => {
    for (const bad of ['-5', '20', '2.5', 'low']) {
      process.env.BENCH_GENERATOR_NICE = bad;
      expect(() => generatorNice(), bad).toThrow(/BENCH_GENERATOR_NICE/);
    }
  });

  it.runIf(process.platform === 'linux')(
    'starts a generator whose every thread runs at that niceness, and which still answers',
    async () => {
      process.env.BENCH_GENERATOR_NICE = '7';
      const worker = Worker.start();
      try {
        // A round trip over IPC: the generator is up and answers, its V8 threads made.
        await expect(worker.run('noop')).rejects.toThrow(/unknown command noop/);
        const niceness = threadNiceness(worker.child.pid!);
        expect(niceness.length).toBeGreaterThan(1);
        expect(new Set(niceness)).toEqual(new Set([7]));
      } finally {
        await worker.stop();
      }
    },
    30_000,
  );
});
