import { describe, expect, it } from 'vitest';
import { largest } from '../bench/support/worker-pool.js';

describe('bench: the largest of a round’s samples', () => {
  it('takes a fast host’s round (more samples than a call has room for arguments)', () => {
    // 15,000 questions/s for 8 s, two round trips each: 240,000 samples. Spread into
    // Math.max they overflow the stack (a full bench:private run died so, 5 Dec 2026).
    const samples = Array.from({ length: 240_000 }, (_, i) => (i * 7919) % 100_003);
    samples[123_456] = 250_000.5;
    expect(() => Math.max(...samples)).toThrow(RangeError);
    expect(largest(samples)).toBe(250_000.5);
  });

  it('is NaN for no samples, and reads negatives', () => {
    expect(largest([])).toBeNaN();
    expect(largest([-3, -1, -2])).toBe(-1);
  });
});
