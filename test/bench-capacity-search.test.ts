import { describe, expect, it } from 'vitest';
import { CapacitySearch, roundRate, type SearchOptions } from '../bench/support/capacity-search.js';

const first: SearchOptions = { start: 200, up: 2, down: 0.5, resolution: 0.1, max: 4000, min: 10 };

/** The rates a search offers to a system that keeps every rate up to `capacity`. */
function offered(options: SearchOptions, capacity: number): { rates: number[]; found: number } {
  const search = new CapacitySearch(options);
  const rates: number[] = [];
  for (let rate = search.next(); rate !== undefined; rate = search.next()) {
    rates.push(rate);
    search.record(rate, rate > capacity);
  }
  return { rates, found: search.capacity };
}

describe('bench capacity search', () => {
  it('rounds rates to two significant figures', () => {
    expect([roundRate(7.4), roundRate(123), roundRate(565.7), roundRate(1349)]).toEqual([
      7, 120, 570, 1300,
    ]);
  });

  it('doubles, then bisects until the bracket is within the resolution', () => {
    const { rates, found } = offered(first, 640);
    expect(rates.slice(0, 3)).toEqual([200, 400, 800]);
    expect(found).toBeLessThanOrEqual(640);
    expect(found).toBeGreaterThan(640 / 1.1);
    expect(rates.length).toBeLessThanOrEqual(7);
  });

  it('steps down from the start when it already breaks, and gives 0 below the minimum', () => {
    expect(offered(first, 120).rates.slice(0, 2)).toEqual([200, 100]);
    expect(offered(first, 5)).toMatchObject({ found: 0 });
  });

  it('starts a later round at the capacity so far and steps by a quarter', () => {
    const later = { ...first, start: 600, up: 1.25, down: 0.8 };
    expect(offered(later, 640).rates.slice(0, 2)).toEqual([600, 750]);
    expect(offered(later, 500).rates.slice(0, 2)).toEqual([600, 480]);
  });

  it('stops at the maximum when the system keeps it', () => {
    expect(offered({ ...first, max: 1000 }, 5000)).toEqual({
      rates: [200, 400, 800, 1000],
      found: 1000,
    });
  });
});
