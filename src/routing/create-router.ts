import type { ResilienceConfig } from '../config/app-config.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { RedisClient } from '../internal/redis.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { BreakerStore } from '../resilience/breaker-store.js';
import { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { FailoverBreakerStore } from '../resilience/failover-breaker-store.js';
import { FailoverRateLimitStore } from '../resilience/failover-rate-limit-store.js';
import { MemoryBreakerStore } from '../resilience/memory-breaker-store.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import type { RateLimitRules, RateLimitStore } from '../resilience/rate-limit-store.js';
import { RedisBreakerStore } from '../resilience/redis-breaker-store.js';
import { RedisRateLimitStore } from '../resilience/redis-rate-limit-store.js';
import { replicaShare } from '../resilience/replica-share.js';
import { StoreFailover } from '../resilience/store-failover.js';
import { deploymentKey, Router } from './router.js';
import type { DeploymentConfig, RoutesConfig } from './routes-config.js';

/** What {@link createRouter} needs besides the routes and the resilience settings. */
export interface RouterDeps {
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** With Redis, every deployment's circuit and rate limits are shared by all processes on the same `keyPrefix`. */
  redis?: RedisClient | undefined;
  /** @default 'groundwork:' */
  keyPrefix?: string | undefined;
  /** Source of the strategies' and backoff's randomness, in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
}

function rulesOf(deployment: DeploymentConfig, windowMs: number, divisor: number): RateLimitRules {
  const share = (limit: number): number => replicaShare(limit, divisor);
  return {
    // A deployment limited by tokens only still has a request bucket: one too large to matter.
    requests: { capacity: deployment.rpm === undefined ? Number.MAX_SAFE_INTEGER : share(deployment.rpm), windowMs },
    tokens: deployment.tpm === undefined ? undefined : { capacity: share(deployment.tpm), windowMs },
  };
}

/**
 * Builds the {@link Router} of a routes file: a circuit per deployment and, for deployments with
 * `rpm` or `tpm`, their own token buckets, in this process or (with `deps.redis`) in the same
 * shared stores, Lua scripts and failover as the rest of the resilience stack, under per-deployment keys.
 * Latency averages and calls in flight stay per process.
 */
export function createRouter(routes: RoutesConfig, resilience: ResilienceConfig, deps: RouterDeps): Router {
  const clock = deps.clock ?? systemClock;
  const { logger, metrics } = deps;
  const prefix = deps.keyPrefix ?? 'groundwork:';
  const breakerRules = { failureThreshold: resilience.circuitFailureThreshold, resetMs: resilience.circuitResetMs };
  let breakerStore: BreakerStore = new MemoryBreakerStore(breakerRules);
  if (deps.redis !== undefined) {
    breakerStore = new FailoverBreakerStore(
      new RedisBreakerStore(deps.redis, breakerRules, prefix),
      breakerStore,
      new StoreFailover({ component: 'breaker', logger, metrics, clock }),
    );
  }
  const limits = new Map<string, RateLimitStore>();
  // One view of the shared store's health for every deployment: an outage is noticed, logged and counted once.
  const limitsFailover = deps.redis === undefined ? undefined : new StoreFailover({ component: 'rate_limit', logger, metrics, clock });
  for (const group of Object.values(routes.groups)) {
    for (const deployment of group.deployments) {
      if (deployment.rpm === undefined && deployment.tpm === undefined) continue;
      const rules = rulesOf(deployment, routes.windowMs, 1);
      if (deps.redis === undefined || limitsFailover === undefined) {
        limits.set(deploymentKey(deployment), new MemoryRateLimitStore(rules, { reportLevels: true }));
        continue;
      }
      const share =
        resilience.onStoreFailure === 'local'
          ? new MemoryRateLimitStore(rulesOf(deployment, routes.windowMs, resilience.expectedReplicas), {
              startEmpty: true,
              reportLevels: true,
            })
          : undefined;
      limits.set(
        deploymentKey(deployment),
        new FailoverRateLimitStore(new RedisRateLimitStore(deps.redis, rules, prefix), share, limitsFailover),
      );
    }
  }
  return new Router({
    routes,
    breaker: new CircuitBreaker({ store: breakerStore, clock, logger, metrics, resetMs: resilience.circuitResetMs }),
    limits,
    retry: {
      maxAttempts: resilience.maxAttempts,
      minMs: resilience.retryMinMs,
      maxMs: resilience.retryMaxMs,
      retryAfterMaxMs: resilience.retryAfterMaxMs,
      random: deps.random ?? Math.random,
    },
    timeoutMs: resilience.timeoutMs,
    deadlineMs: resilience.deadlineMs,
    maxWaitMs: resilience.rateLimitMaxWaitMs,
    clock,
    logger,
    metrics,
    random: deps.random ?? Math.random,
  });
}
