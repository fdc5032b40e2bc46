import { describe, expect, it } from 'vitest';
import { roundOrder } from '../bench/support/round-order.js';

describe("a benchmark's order of systems by round", () => {
  it('puts every system in every place equally often over twice as many rounds as systems', () => {
    for (const n of [2, 3, 4, 5]) {
      const systems = Array.from({ length: n }, (_, i) => `s${i}`);
      const places = new Map(systems.map((s) => [s, new Array<number>(n).fill(0)]));
      for (let round = 0; round < 2 * n; round += 1) {
        const order = roundOrder(systems, round);
        expect([...order].sort()).toEqual(systems);
        order.forEach((s, place) => (places.get(s)![place]! += 1));
      }
      for (const counts of places.values()) expect(counts).toEqual(new Array(n).fill(2));
    }
  });

  it('reverses every other round and turns the list every second round', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(['a', 'b'], r).join(''))).toEqual([
      'ab',
      'ba',
      'ba',
      'ab',
    ]);
    expect([0, 1, 2, 3].map((r) => roundOrder(['a', 'b', 'c'], r).join(''))).toEqual([
      'abc',
      'cba',
      'bca',
      'acb',
    ]);
    expect(roundOrder([], 3)).toEqual([]);
  });
});
