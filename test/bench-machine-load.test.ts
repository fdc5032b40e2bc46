import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { coresBusy, coresStolen, machineTicks } from '../bench/support/cpu.js';
import { finishRun, machine } from '../bench/support/meta.js';

describe('bench: the machine cores busy during a step', () => {
  it('is the busy share of the ticks between two readings, times the cores', () => {
    expect(coresBusy({ busy: 100, all: 1000 }, { busy: 400, all: 1400, cores: 2 })).toBe(1.5);
    expect(coresBusy({ busy: 100, all: 1000 }, { busy: 100, all: 1400, cores: 2 })).toBe(0);
    // No ticks between the readings (or no /proc): nothing to say, not a division by 0.
    expect(coresBusy({ busy: 5, all: 10 }, { busy: 5, all: 10, cores: 2 })).toBe(0);
  });

  it("is the hypervisor's share of the ticks between two readings, times the cores", () => {
    expect(coresStolen({ steal: 10, all: 1000 }, { steal: 110, all: 1400, cores: 2 })).toBe(0.5);
    expect(coresStolen({ steal: 10, all: 1000 }, { steal: 10, all: 1400, cores: 2 })).toBe(0);
    expect(coresStolen({ steal: 5, all: 10 }, { steal: 5, all: 10, cores: 2 })).toBe(0);
  });

  it.skipIf(process.platform !== 'linux')('reads /proc/stat: ticks move with work done', () => {
    const before = machineTicks();
    const end = Date.now() + 120;
    let spin = 0;
    while (Date.now() < end) spin += 1;
    const after = machineTicks();
    expect(spin).toBeGreaterThan(0);
    expect(after.all).toBeGreaterThan(before.all);
    expect(after.busy).toBeGreaterThan(before.busy);
    const busy = coresBusy(before, after);
    expect(busy).toBeGreaterThan(0);
    expect(after.cores).toBe(cpus().length);
    expect(busy).toBeLessThanOrEqual(after.cores);
    // Steal is part of busy, so never more than it, and never backwards.
    expect(after.steal).toBeGreaterThanOrEqual(before.steal);
    const stolen = coresStolen(before, after);
    expect(stolen).toBeGreaterThanOrEqual(0);
    expect(stolen).toBeLessThanOrEqual(busy);
  });
});

describe('bench: a run records how noisy the host was', () => {
  it.skipIf(process.platform !== 'linux')(
    'finishRun sets the load average and the cores stolen since machine()',
    () => {
      const meta = machine();
      expect(meta.ticksBefore).toBeDefined();
      finishRun(meta);
      expect(meta.loadAfter).toBeGreaterThanOrEqual(0);
      expect(meta.coresStolen).toBeGreaterThanOrEqual(0);
      expect(meta.coresStolen).toBeLessThanOrEqual(meta.cores);
    },
  );

  it('leaves the steal out for a run recorded before it was read', () => {
    const meta = machine();
    delete meta.ticksBefore;
    finishRun(meta);
    expect(meta.coresStolen).toBeUndefined();
  });
});
