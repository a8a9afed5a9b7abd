import { afterEach } from 'vitest';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { rateLimitStoreContract } from './rate-limit-store.cases.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';
import { testRedis } from './resilience.test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

rateLimitStoreContract('memory', async (rules) => new MemoryRateLimitStore(rules));
rateLimitStoreContract('redis', async (rules) => {
  const { redis, prefix, close } = await testRedis();
  cleanups.push(close);
  return new RedisRateLimitStore(redis, rules, prefix);
});
