import { afterAll, beforeAll } from 'vitest';
import { testRedis } from '../resilience/resilience.test-helpers.js';
import { budgetStoreContract } from './budget-store.cases.js';
import { RedisBudgetStore } from './redis-budget-store.js';

let redis: Awaited<ReturnType<typeof testRedis>>;
let second: Awaited<ReturnType<typeof testRedis>>;

beforeAll(async () => {
  redis = await testRedis();
  second = await testRedis();
});

afterAll(async () => {
  second?.redis.disconnect();
  await redis?.close();
});

budgetStoreContract('Redis', () => ({
  store: new RedisBudgetStore(redis.redis, redis.prefix),
  other: new RedisBudgetStore(second.redis, redis.prefix),
}));
