import { describe } from 'vitest';
import { TEST_REDIS_URL, uniqueName } from '../../../test/support/backends.js';
import { cacheContract } from './cache.contract.js';
import { MemoryCache } from './memory-cache.js';
import { RedisCache } from './redis-cache.js';

cacheContract('memory', () => new MemoryCache());

describe.runIf(TEST_REDIS_URL)('redis', () => {
  cacheContract(
    'redis',
    () => new RedisCache({ url: TEST_REDIS_URL!, keyPrefix: `${uniqueName('c')}:` }),
  );
});
