import { describe, expect, it } from 'vitest';
import { halfLoadOf, p99WarmupFromEnv, warmUpOf, type Step } from '../bench/private-chat.js';

/** A latency step with only what the latency figures read. */
const stepOf = (p50: number, p99: number, warm?: Step['warmUp']): Step => ({
  rate: 950,
  achieved: 950,
  sent: 9500,
  answered: 9500,
  errors: 0,
  overloaded: false,
  broken: false,
  rtt: { p50, p95: p99, p99, max: p99 },
  oneWay: { p50, p95: p99, p99 },
  rttQuantiles: [],
  ...(warm ? { warmUp: warm } : {}),
});

describe('bench private chat: the warm-up before each latency round', () => {
  it('reads BENCH_P99_WARMUP_SECONDS: 2 when unset, 0 for none, else a clear error', () => {
    expect(p99WarmupFromEnv(undefined)).toBe(2);
    expect(p99WarmupFromEnv('')).toBe(2);
    expect(p99WarmupFromEnv('0')).toBe(0);
    expect(p99WarmupFromEnv('1.5')).toBe(1.5);
    for (const bad of ['-1', 'two', 'Infinity'])
      expect(() => p99WarmupFromEnv(bad)).toThrow(`BENCH_P99_WARMUP_SECONDS: not a number`);
  });

  it("joins the load generators' warm-ups: quantiles over both, and when the slowest went", () => {
    // 198 round trips of 2 ms sent through the warm-up, two of 80 ms in its first 0.1 s.
    const part = (n: number, slow: number[]) => ({
      sent: n + slow.length,
      answered: n + slow.length,
      roundTrip: [...slow.map(() => 80), ...Array.from({ length: n }, () => 2)],
      sentAfter: [...slow, ...Array.from({ length: n }, (_, k) => 200 + k * 9)],
    });
    const { warmUp } = warmUpOf(2, [part(99, [50]), part(99, [100])]);
    expect(warmUp).toMatchObject({ seconds: 2, sent: 200, answered: 200 });
    expect(warmUp!.rtt).toEqual({ p50: 2, p95: 2, p99: 80, max: 80 });
    expect(warmUp!.slowestSentAt).toEqual([0.05, 0.1, 0.1]);
  });

  it('has no warm-up without seconds or without a generator that ran one', () => {
    expect(warmUpOf(0, [{ sent: 1, answered: 1, roundTrip: [1], sentAfter: [0] }])).toEqual({});
    expect(warmUpOf(2, [])).toEqual({});
  });

  it("keeps the rounds' cold start apart from their measured figure", () => {
    const warm = (p99: number) => ({
      seconds: 2,
      sent: 1900,
      answered: 1900,
      rtt: { p50: 3, p95: p99, p99, max: p99 },
    });
    const h = halfLoadOf([
      stepOf(1.5, 12, warm(130)),
      stepOf(1.7, 9, warm(40)),
      stepOf(2.0, 15, warm(60)),
    ]);
    expect(h.rate).toBe(950);
    expect(h.p99).toEqual({ median: 12, min: 9, max: 15, rounds: [12, 9, 15] });
    expect(h.cold).toEqual({
      seconds: 2,
      p99: { median: 60, min: 40, max: 130, rounds: [130, 40, 60] },
      p50: { median: 3, min: 3, max: 3, rounds: [3, 3, 3] },
    });
    // Rounds without a warm-up (BENCH_P99_WARMUP_SECONDS=0, older results): no cold figure.
    expect(halfLoadOf([stepOf(1.5, 12), stepOf(1.7, 9)]).cold).toBeUndefined();
  });
});
