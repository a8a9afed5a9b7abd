import { afterEach } from 'vitest';
import { breakerStoreContract } from './breaker-store.cases.js';
import { MemoryBreakerStore } from './memory-breaker-store.js';
import { RedisBreakerStore } from './redis-breaker-store.js';
import { testRedis } from './resilience.test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

breakerStoreContract('memory', async (rules) => new MemoryBreakerStore(rules));
breakerStoreContract('redis', async (rules) => {
  const { redis, prefix, close } = await testRedis();
  cleanups.push(close);
  return new RedisBreakerStore(redis, rules, prefix);
});
