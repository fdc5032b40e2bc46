import type { Clock } from '../../shared/clock.js';

/** One remembered answer and when it stops counting. */
export interface CachedAnswer<V> {
  value: V;
  expiresAt: number;
}

/**
 * Answers by key, in memory, at most `maxEntries` of them (the least recently used
 * go first) and none older than `ttlMs`. A value may be `undefined` ("not a
 * member"): `lookup` tells a remembered `undefined` from a miss. Keeping this
 * correct when the answers change is the owner's job (SocialAccessCache).
 */
export class AnswerCache<V> {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least
  // recently used entry first, which is the one eviction takes.
  private readonly entries = new Map<string, CachedAnswer<V>>();

  constructor(private readonly options: { maxEntries: number; ttlMs: number; clock: Clock }) {}

  get size(): number {
    return this.entries.size;
  }

  /** The remembered answer, or undefined on a miss (never stored, evicted or expired). */
  lookup(key: string): CachedAnswer<V> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.options.clock()) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, value: V): void {
    const { maxEntries, ttlMs, clock } = this.options;
    if (maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: clock() + ttlMs });
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
