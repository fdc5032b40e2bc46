import { describe, expect, it } from 'vitest';
import {
  fixedRates,
  latencyRatesFromEnv,
  sweepOf,
  HALF_CAPACITY,
  type Step,
} from '../bench/private-chat.js';

/** A latency step at `rate` with only what the latency figures read. */
const stepAt = (rate: number, p99: number): Step => ({
  rate,
  achieved: rate,
  sent: rate * 10,
  answered: rate * 10,
  errors: 0,
  overloaded: false,
  broken: false,
  rtt: { p50: p99 / 4, p95: p99, p99, max: p99 },
  oneWay: { p50: p99 / 8, p95: p99, p99 },
  rttQuantiles: [],
});

describe('bench private chat: the latency phase swept over rates', () => {
  it('reads one rate, several joined by /, by system, by store and half', () => {
    expect(latencyRatesFromEnv('550')).toEqual({ latencyRates: { all: 550 } });
    expect(latencyRatesFromEnv('postgres=1600/200/800,sqlite=2350')).toEqual({
      latencyRates: { postgres: [200, 800, 1600], sqlite: 2350 },
    });
    const { latencyRates } = latencyRatesFromEnv('half,postgres=400/1600');
    expect(fixedRates(latencyRates!, 'easy-chat-postgres')).toEqual([400, 1600]);
    expect(fixedRates(latencyRates!, 'easy-chat-sqlite')).toEqual([HALF_CAPACITY.sqlite]);
    expect(fixedRates(latencyRates!, 'ws')).toEqual([]);
    expect(latencyRatesFromEnv(undefined)).toEqual({});
  });

  it('refuses a rate that is not a positive number, wherever it is in the sweep', () => {
    for (const bad of ['postgres=200/x', 'postgres=200//800', 'sqlite=0', 'half,postgres=-1'])
      expect(() => latencyRatesFromEnv(bad)).toThrow('BENCH_LATENCY_RATE: not a rate');
  });

  it("gives each rate's rounds beside the ceiling's at the same rate, lowest first", () => {
    const mine = [stepAt(800, 30), stepAt(200, 12), stepAt(800, 24), stepAt(200, 14)];
    const ceiling = [stepAt(200, 10), stepAt(800, 20), stepAt(200, 11), stepAt(800, 18)];
    const sweep = sweepOf(mine, ceiling);
    expect(sweep.map((h) => h.rate)).toEqual([200, 800]);
    expect(sweep[0]!.p99.rounds).toEqual([12, 14]);
    expect(sweep[0]!.ceiling!.p99.rounds).toEqual([10, 11]);
    expect(sweep[1]!.p99.rounds).toEqual([30, 24]);
    expect(sweep[1]!.ceiling!.p99.rounds).toEqual([20, 18]);
    // No ceiling at a rate: no ceiling figure, the system's own still there.
    expect(sweepOf([stepAt(400, 9)], [stepAt(200, 5)])).toEqual([
      expect.not.objectContaining({ ceiling: expect.anything() }),
    ]);
  });
});
