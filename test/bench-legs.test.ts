import { describe, expect, it } from 'vitest';
import { legsOf } from '../bench/private-chat.js';

describe('bench private chat: where a round trip went', () => {
  it('takes the p50 of each leg and the mean over the slowest 1 %', () => {
    // 200 round trips of 10 ms (1 + 4 + 1 + 4), two of 100 ms whose time is in qDown.
    const rtt: number[] = [];
    const legs: Array<number | null> = [];
    for (let k = 0; k < 198; k += 1) {
      rtt.push(10);
      legs.push(1, 4, 1, 4);
    }
    rtt.push(100, 100);
    legs.push(1, 94, 1, 4, 1, 94, 1, 4);
    expect(legsOf(rtt, legs)).toEqual({
      p50: { qUp: 1, qDown: 4, aUp: 1, aDown: 4 },
      slowest: { qUp: 1, qDown: 94, aUp: 1, aDown: 4 },
    });
  });

  it('leaves out round trips without the server stamps, and says nothing without any', () => {
    expect(legsOf([5, 50], [null, null, null, null, 2, 40, 3, 5])).toEqual({
      p50: { qUp: 2, qDown: 40, aUp: 3, aDown: 5 },
      slowest: { qUp: 2, qDown: 40, aUp: 3, aDown: 5 },
    });
    expect(legsOf([5], [null, null, null, null])).toBeUndefined();
  });
});
