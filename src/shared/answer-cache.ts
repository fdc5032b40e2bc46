import type { Clock } from './clock.js';

/** One remembered answer, when it is due to be read again, and when it stops counting. */
export interface CachedAnswer<V> {
  value: V;
  /** From here on the owner reads it again in the background while still using it. */
  refreshAt: number;
  expiresAt: number;
}

export interface AnswerCacheOptions {
  maxEntries: number;
  ttlMs: number;
  clock: Clock;
  /** A number in [0, 1): where in the second half of its TTL an answer falls due. */
  random?: () => number;
}

/**
 * Answers by key, in memory, at most `maxEntries` of them (the least recently used
 * go first) and none older than `ttlMs`. A value may be `undefined` ("not a
 * member"): `lookup` tells a remembered `undefined` from a miss. Keeping this
 * correct when the answers change is the owner's job (SocialAccessCache).
 *
 * Each answer also falls due for a refresh somewhere in the second half of its TTL,
 * at a random point: answers stored together (every pair's at a server's start)
 * would otherwise expire together, and every send in that moment would wait for its
 * read from the database at once (a stall of a few hundred ms every TTL under load).
 */
export class AnswerCache<V> {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least
  // recently used entry first, which is the one eviction takes.
  private readonly entries = new Map<string, CachedAnswer<V>>();

  constructor(private readonly options: AnswerCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The remembered answer, or undefined on a miss (never stored, evicted or expired).
   * `now`: the clock's time, when the caller has read it already.
   */
  lookup(key: string, now = this.options.clock()): CachedAnswer<V> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, value: V): void {
    const { maxEntries, ttlMs, clock, random = Math.random } = this.options;
    if (maxEntries <= 0) return;
    const now = clock();
    this.entries.delete(key);
    this.entries.set(key, {
      value,
      refreshAt: now + ttlMs * (0.5 + 0.4 * random()),
      expiresAt: now + ttlMs,
    });
    if (this.entries.size > maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /**
   * Drops every entry whose key matches: a walk over all of them, so only for the
   * rare changes that reach many keys at once (a group muted or dismissed).
   */
  deleteWhere(matches: (key: string) => boolean): void {
    for (const key of this.entries.keys()) {
      if (matches(key)) this.entries.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
