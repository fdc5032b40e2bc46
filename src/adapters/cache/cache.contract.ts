import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cache } from './cache.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The behaviour every Cache implementation must have. Run by cache.test.ts for the
 * in-memory cache and, when TEST_REDIS_URL is set, for Redis.
 */
export function cacheContract(name: string, open: () => Cache): void {
  describe(`Cache contract: ${name}`, () => {
    let cache: Cache;
    beforeEach(() => {
      cache = open();
    });
    afterEach(async () => {
      await cache.close();
    });

    it('stores, reads and deletes values', async () => {
      expect(await cache.get('a')).toBeNull();
      await cache.set('a', 'one');
      expect(await cache.get('a')).toBe('one');
      await cache.set('a', 'two');
      expect(await cache.get('a')).toBe('two');
      await cache.delete('a');
      expect(await cache.get('a')).toBeNull();
    });

    it('expires values after their TTL', async () => {
      await cache.set('short', 'x', 60);
      await cache.set('long', 'y', 10_000);
      expect(await cache.get('short')).toBe('x');
      await sleep(120);
      expect(await cache.get('short')).toBeNull();
      expect(await cache.get('long')).toBe('y');
    });

    it('setIfAbsent stores once, and again after expiry', async () => {
      expect(await cache.setIfAbsent('lock', 'first', 80)).toBe(true);
      expect(await cache.setIfAbsent('lock', 'second', 80)).toBe(false);
      expect(await cache.get('lock')).toBe('first');
      await sleep(140);
      expect(await cache.setIfAbsent('lock', 'third', 80)).toBe(true);
      expect(await cache.get('lock')).toBe('third');
    });

    it('setIfAbsent lets exactly one of many concurrent callers win', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => cache.setIfAbsent('race', String(i), 5_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('increment counts within a fixed window and restarts after it', async () => {
      const first = await cache.increment('hits', 150);
      expect(first.count).toBe(1);
      expect(first.ttlMs).toBeGreaterThan(0);
      expect(first.ttlMs).toBeLessThanOrEqual(150);
      expect((await cache.increment('hits', 150)).count).toBe(2);
      // The window does not slide: later increments keep the first expiry.
      const third = await cache.increment('hits', 10_000);
      expect(third.count).toBe(3);
      expect(third.ttlMs).toBeLessThanOrEqual(150);
      await sleep(220);
      expect((await cache.increment('hits', 150)).count).toBe(1);
    });

    it('increment is atomic under concurrency', async () => {
      const counts = await Promise.all(
        Array.from({ length: 50 }, () => cache.increment('concurrent', 5_000)),
      );
      expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it('keeps keys apart', async () => {
      await cache.set('k1', 'v1');
      await cache.set('k2', 'v2');
      await cache.delete('k1');
      expect(await cache.get('k2')).toBe('v2');
    });

    it('answers ping', async () => {
      await expect(cache.ping()).resolves.toBeUndefined();
    });
  });
}
