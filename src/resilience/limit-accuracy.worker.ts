/*
 * One process of the limit-accuracy test: offers `offers` calls at once, at `startAt`, to the
 * Redis-backed rate limiter that every worker shares, and prints how many it admitted.
 * Usage: node --import tsx limit-accuracy.worker.ts REDIS_URL PREFIX CAPACITY OFFERS START_AT
 */
import { Redis } from 'ioredis';
import { systemClock } from '../internal/clock.js';
import { silentLogger } from '../observability/logger.js';
import { FailoverRateLimitStore } from './failover-rate-limit-store.js';
import type { RateLimitRules } from './rate-limit-store.js';
import { RateLimiter } from './rate-limiter.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';
import { StoreFailover } from './store-failover.js';

const [url, prefix, capacity, offers, startAt] = process.argv.slice(2);
const redis = new Redis(url as string, { enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: 5000 });
await redis.ping();
const rules: RateLimitRules = { requests: { capacity: Number(capacity), windowMs: 60_000 }, tokens: undefined };
const failover = new StoreFailover({ component: 'rate_limit', logger: silentLogger(), metrics: undefined, clock: systemClock });
const store = new FailoverRateLimitStore(new RedisRateLimitStore(redis, rules, prefix as string), undefined, failover);
const limiter = new RateLimiter({ store, rules, maxWaitMs: 0, clock: systemClock });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const started = Date.now();
const target = { provider: 'openai', model: 'accuracy' } as const;
const results = await Promise.allSettled(
  Array.from({ length: Number(offers) }, () =>
    limiter.acquire(target, 0, { signal: undefined, startedAt: started, deadlineMs: 60_000, deadlineAt: started + 60_000 }),
  ),
);
const refusedOtherwise = results.filter(
  (result) => result.status === 'rejected' && (result.reason as { code?: string }).code !== 'rate_limit_exceeded',
);
process.stdout.write(
  JSON.stringify({
    admitted: results.filter((result) => result.status === 'fulfilled').length,
    failed: refusedOtherwise.length,
    startedAt: started,
    endedAt: Date.now(),
  }),
);
redis.disconnect();
