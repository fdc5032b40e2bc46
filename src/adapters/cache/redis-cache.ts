import type * as IoRedis from 'ioredis';
import type { Redis } from 'ioredis';
import { loadWhenUsed } from '../../shared/load-when-used.js';
import { redisCall } from '../redis.js';
import type { Cache } from './cache.js';

/**
 * Increment-with-window in one round trip: the first increment sets the expiry,
 * later ones keep it (a fixed window shared by every process).
 */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {count, ttl}
`;

export interface RedisCacheOptions {
  url: string;
  keyPrefix: string;
}

/**
 * Cache on Redis, shared by every easy-chat process that points at the same server.
 * While Redis is unreachable every call fails fast with DependencyUnavailableError
 * (503 / 100011); the client reconnects by itself.
 */
export class RedisCache implements Cache {
  private readonly redis: Redis;

  constructor(options: RedisCacheOptions) {
    const { Redis } = loadWhenUsed<typeof IoRedis>('ioredis');
    this.redis = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      // Fail calls fast while disconnected instead of queueing them without bound.
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      lazyConnect: false,
    });
    this.redis.defineCommand('ecIncrementWindow', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
    // Connection errors surface through the calls; unheard, ioredis prints each one.
    this.redis.on('error', () => undefined);
  }

  async get(key: string): Promise<string | null> {
    return this.call(() => this.redis.get(key));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.call(() =>
      ttlMs === undefined
        ? this.redis.set(key, value)
        : this.redis.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs))),
    );
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const result = await this.call(() =>
      this.redis.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
    );
    return result === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.call(() => this.redis.del(key));
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }> {
    const redis = this.redis as unknown as IncrementCommand;
    const [count, ttl] = await this.call(() =>
      redis.ecIncrementWindow(key, Math.max(1, Math.ceil(windowMs))),
    );
    return { count, ttlMs: Math.max(0, ttl) };
  }

  async ping(): Promise<void> {
    await this.call(() => this.redis.ping());
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private call<T>(call: () => Promise<T>): Promise<T> {
    return redisCall(this.redis, 'cache', call);
  }
}

interface IncrementCommand {
  ecIncrementWindow(key: string, windowMs: number): Promise<[number, number]>;
}
