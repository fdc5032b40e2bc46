import { afterEach, describe, expect, it } from 'vitest';
import { cpuList, pinnedLaunch } from '../bench/support/cpu-pinning.js';
import { Worker } from '../bench/support/worker-pool.js';
import { threadCpus, threadNiceness } from './support/proc-threads.js';

describe('BENCH_SERVER_CPUS and BENCH_GENERATOR_CPUS (a benchmark process on given cores)', () => {
  afterEach(() => {
    delete process.env.BENCH_GENERATOR_CPUS;
    delete process.env.BENCH_GENERATOR_NICE;
    delete process.env.BENCH_SERVER_CPUS;
  });

  it('starts a process as before when unset, through taskset when set', () => {
    expect(pinnedLaunch('BENCH_SERVER_CPUS', '/usr/bin/node')).toEqual({
      command: '/usr/bin/node',
      prefix: [],
    });
    process.env.BENCH_SERVER_CPUS = '0,2-3';
    expect(pinnedLaunch('BENCH_SERVER_CPUS', '/usr/bin/node')).toEqual({
      command: 'taskset',
      prefix: ['-c', '0,2-3', '/usr/bin/node'],
    });
  });

  it('refuses what is not a core list (nothing of it reaches a command line)', () => {
    for (const bad of ['a', '0;rm -rf /', '-1', '1-', '0,,1', '0 1']) {
      process.env.BENCH_SERVER_CPUS = bad;
      expect(() => cpuList('BENCH_SERVER_CPUS'), bad).toThrow(/BENCH_SERVER_CPUS/);
    }
    process.env.BENCH_SERVER_CPUS = ' ';
    expect(cpuList('BENCH_SERVER_CPUS')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')(
    'starts a generator whose every thread runs on that core at its niceness, and which still answers',
    async () => {
      // The first core this process may use (a container may not allow core 0).
      const core = /^\d+/.exec(threadCpus('self')[0]!)![0];
      process.env.BENCH_GENERATOR_CPUS = core;
      process.env.BENCH_GENERATOR_NICE = '5';
      const worker = Worker.start();
      try {
        await expect(worker.run('noop')).rejects.toThrow(/unknown command noop/);
        const cpus = threadCpus(worker.child.pid!);
        expect(cpus.length).toBeGreaterThan(1);
        expect(new Set(cpus)).toEqual(new Set([core]));
        expect(new Set(threadNiceness(worker.child.pid!))).toEqual(new Set([5]));
      } finally {
        await worker.stop();
      }
    },
    30_000,
  );
});
