import type { ResilienceConfig } from '../config/app-config.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { RedisClient } from '../internal/redis.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { BreakerStore } from './breaker-store.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { FailoverBreakerStore } from './failover-breaker-store.js';
import { FailoverRateLimitStore } from './failover-rate-limit-store.js';
import { MemoryBreakerStore } from './memory-breaker-store.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import type { RateLimitRules, RateLimitStore } from './rate-limit-store.js';
import { RateLimiter } from './rate-limiter.js';
import { RedisBreakerStore } from './redis-breaker-store.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';
import { replicaShare } from './replica-share.js';
import { ResiliencePipeline } from './resilience-pipeline.js';
import { StoreFailover } from './store-failover.js';

/** What {@link createResiliencePipeline} needs besides the settings. */
export interface ResiliencePipelineDeps {
  /** @default systemClock */
  clock?: Clock;
  logger: Logger;
  metrics?: GroundworkMetrics;
  /** With Redis, rate limits and circuits are shared by every process on the same `keyPrefix`. */
  redis?: RedisClient;
  /** Prefix of every Redis key written. @default 'groundwork:' */
  keyPrefix?: string;
  /** Source of backoff jitter, in [0, 1). @default Math.random */
  random?: () => number;
}

const MINUTE_MS = 60_000;

/** Request and token buckets per minute, each limit divided by `divisor` (a replica's share). */
function rulesFor(config: ResilienceConfig, divisor: number): RateLimitRules {
  const share = (limit: number): number => replicaShare(limit, divisor);
  return {
    requests: { capacity: share(config.requestsPerMinute), windowMs: MINUTE_MS },
    tokens: config.tokensPerMinute === undefined ? undefined : { capacity: share(config.tokensPerMinute), windowMs: MINUTE_MS },
  };
}

/**
 * Builds the resilience stack from the configuration: in-memory limits and circuits, or with
 * `deps.redis` shared ones (Lua, atomic) that fall back as `onStoreFailure` says when Redis fails.
 * The Redis client stays the caller's to close.
 */
export function createResiliencePipeline(config: ResilienceConfig, deps: ResiliencePipelineDeps): ResiliencePipeline {
  const clock = deps.clock ?? systemClock;
  const { logger, metrics } = deps;
  const rules = rulesFor(config, 1);
  const breakerRules = { failureThreshold: config.circuitFailureThreshold, resetMs: config.circuitResetMs };
  let rateStore: RateLimitStore = new MemoryRateLimitStore(rules);
  let breakerStore: BreakerStore = new MemoryBreakerStore(breakerRules);
  if (deps.redis !== undefined) {
    const prefix = deps.keyPrefix ?? 'groundwork:';
    const local =
      config.onStoreFailure === 'local'
        ? new MemoryRateLimitStore(rulesFor(config, config.expectedReplicas), { startEmpty: true })
        : undefined;
    rateStore = new FailoverRateLimitStore(
      new RedisRateLimitStore(deps.redis, rules, prefix),
      local,
      new StoreFailover({ component: 'rate_limit', logger, metrics, clock }),
    );
    breakerStore = new FailoverBreakerStore(
      new RedisBreakerStore(deps.redis, breakerRules, prefix),
      breakerStore,
      new StoreFailover({ component: 'breaker', logger, metrics, clock }),
    );
  }
  return new ResiliencePipeline({
    breaker: new CircuitBreaker({ store: breakerStore, clock, logger, metrics, resetMs: config.circuitResetMs }),
    rateLimiter: new RateLimiter({ store: rateStore, rules, maxWaitMs: config.rateLimitMaxWaitMs, clock, metrics }),
    concurrency: new ConcurrencyLimiter({
      maxConcurrent: config.maxConcurrent,
      queueMax: config.queueMax,
      queueTimeoutMs: config.queueTimeoutMs,
      clock,
      metrics,
    }),
    retry: {
      maxAttempts: config.maxAttempts,
      minMs: config.retryMinMs,
      maxMs: config.retryMaxMs,
      retryAfterMaxMs: config.retryAfterMaxMs,
      random: deps.random ?? Math.random,
    },
    timeoutMs: config.timeoutMs,
    deadlineMs: config.deadlineMs,
    limitsTokens: config.tokensPerMinute !== undefined,
    clock,
    logger,
    metrics,
  });
}
