/**
 * Short-lived shared state: caches, rate-limit counters, the token denylist and
 * (later) presence. In-process on one node, Redis across many; both
 * implementations pass cache.contract.ts.
 */
export interface Cache {
  get(key: string): Promise<string | null>;
  /** Stores a value; without ttlMs it never expires. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Stores only if the key is absent. Returns whether it was stored. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Adds one to a counter that lives for `windowMs` from its first increment
   * (a fixed window). Returns the new count and the time left in the window.
   */
  increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
