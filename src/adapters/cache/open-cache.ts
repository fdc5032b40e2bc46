import type { Config } from '../../config/config.schema.js';
import type { Cache } from './cache.js';
import { MemoryCache } from './memory-cache.js';
import { RedisCache } from './redis-cache.js';

/** Chooses the Cache implementation from `cache.driver`. */
export function openCache(config: Config): Cache {
  return config.cache.driver === 'redis' ? new RedisCache(config.cache.redis) : new MemoryCache();
}
