import type { Cache } from './cache.js';

export interface RateLimitRule {
  limit: number;
  windowSec: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Milliseconds until the current window ends (for Retry-After). */
  retryAfterMs: number;
}

/**
 * Fixed-window rate limiter on the shared Cache, so a limit holds across every
 * process using the same Redis. Each call counts as one hit.
 */
export class RateLimiter {
  constructor(
    private readonly cache: Cache,
    private readonly namespace: string,
  ) {}

  async hit(key: string, rule: RateLimitRule): Promise<RateLimitResult> {
    const { count, ttlMs } = await this.cache.increment(
      `rl:${this.namespace}:${key}`,
      rule.windowSec * 1000,
    );
    return { allowed: count <= rule.limit, retryAfterMs: ttlMs };
  }
}
