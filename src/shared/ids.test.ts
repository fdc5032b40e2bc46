import { decodeTime, isValid } from 'ulid';
import { describe, expect, it, vi } from 'vitest';
import { newId } from './ids.js';

describe('newId', () => {
  it('makes ULIDs: 26 characters of Crockford base32, the time of creation first', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isValid(id)).toBe(true);
    expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id)).toBeLessThanOrEqual(after);
  });

  it('is strictly increasing within a millisecond, across carries, and when the clock steps back', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    for (let i = 1; i < ids.length; i += 1) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    const now = vi.spyOn(Date, 'now');
    try {
      now.mockReturnValue(Date.UTC(2030, 0, 1));
      const first = newId();
      now.mockReturnValue(Date.UTC(2029, 0, 1));
      const back = newId();
      expect(back > first).toBe(true);
      // The time part stays the last one's while the clock is behind it.
      expect(decodeTime(back)).toBe(Date.UTC(2030, 0, 1));
      now.mockReturnValue(Date.UTC(2030, 0, 1) + 1);
      const later = newId();
      expect(later > back).toBe(true);
      expect(decodeTime(later)).toBe(Date.UTC(2030, 0, 1) + 1);
    } finally {
      now.mockRestore();
    }
  });

  it('has about 80 random bits: ids of one millisecond start far apart', () => {
    const now = vi.spyOn(Date, 'now');
    try {
      const tails = new Set<string>();
      for (let t = 0; t < 200; t += 1) {
        now.mockReturnValue(Date.UTC(2031, 0, 1) + t);
        tails.add(newId().slice(10, 20));
      }
      expect(tails.size).toBe(200);
    } finally {
      now.mockRestore();
    }
  });
});
