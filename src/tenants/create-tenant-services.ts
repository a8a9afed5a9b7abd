import type { AppConfig } from '../config/app-config.js';
import type { Database } from '../db/database.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { RedisClient } from '../internal/redis.js';
import { PriceBook } from '../llm/pricing.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { FailoverRateLimitStore } from '../resilience/failover-rate-limit-store.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import type { RateLimitRules, RateLimitStore } from '../resilience/rate-limit-store.js';
import { RedisRateLimitStore } from '../resilience/redis-rate-limit-store.js';
import { replicaShare } from '../resilience/replica-share.js';
import { StoreFailover } from '../resilience/store-failover.js';
import type { RoutesConfig } from '../routing/routes-config.js';
import { BatchBudgets } from './batch-budgets.js';
import { type BudgetOwner, budgetLimits } from './budget-limits.js';
import { type BudgetStore, fromNano } from './budget-store.js';
import { DatabaseBudgetStore } from './database-budget-store.js';
import { FailoverBudgetStore } from './failover-budget-store.js';
import { publishKeyChange, redisKeyChangeBus } from './key-change-bus.js';
import { KeyDirectory } from './key-directory.js';
import { ledgerSpend } from './ledger-spend.js';
import { MemoryBudgetStore } from './memory-budget-store.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { TenantAdmission } from './tenant-admission.js';
import { TenantRepository } from './tenant-repository.js';
import { type UsageGrouping, type UsageRow, usageReport } from './usage-report.js';

/** A budget's spend counter as rebuilt from the ledger. */
export interface RebuiltBudget {
  /** `key:<id>:day:2026-11-30`, `team:<id>:total`… */
  counter: string;
  limitUsd: number;
  /** Settled spend, as the ledger has it. */
  spentUsd: number;
}

/** Keys, their lookup and their admission, built from an instance's configuration. */
export interface TenantServices {
  repository: TenantRepository;
  directory: KeyDirectory;
  admission: TenantAdmission;
  /** Budgets of batches sent through the providers' Batch APIs (`infra.jobs.enqueueBatch` with `tenant`). */
  batches: BatchBudgets;
  prices: PriceBook;
  /** The ledger's usage by key, team, model or prompt. */
  usage(options: { by: UsageGrouping; since: Date }): Promise<UsageRow[]>;
  /**
   * Sets the spend counters of a key's or team's current budgets (day, month, total) to what
   * the usage ledger holds, and answers them. Redis does it by itself for a counter it lost;
   * this is for an operator who knows better (a correction, a restore from a backup).
   */
  rebuildBudgets(scope: 'key' | 'team', reference: string): Promise<RebuiltBudget[]>;
  /**
   * After a change: drops this process's cached keys and, with Redis, announces the change so
   * every listening replica drops its own. Resolves true once announced, false without Redis or
   * when the announcement failed (replicas then see the change within `TENANT_KEY_CACHE_TTL_MS`).
   * Never rejects.
   */
  changed(): Promise<boolean>;
  /**
   * With `listen` and Redis: settles true once this process receives other replicas' changes, or
   * false when that did not happen within `waitMs` (changes then arrive within the cache's TTL
   * until the subscription is made). Without them, true at once. Never rejects.
   */
  listening(waitMs: number): Promise<boolean>;
  /**
   * Stops listening for changes and starting budget sweeps, tries failed budget settlements once
   * more (dropping, logged and counted, those still failing or unanswered after 1 s), replays what
   * Redis missed once more (up to its 2 s bound; the rest is dropped the same way), and resolves
   * once a sweep under way has ended: call it before the database closes. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Builds the tenant services over an instance's database and, when `REDIS_URL` is set, its
 * Redis: budgets and rates then live in Redis (one Lua script per change); without Redis,
 * budgets live in the database (one transaction per change) and rates in this process.
 */
export function createTenantServices<DB>(
  parts: {
    config: AppConfig;
    database: Pick<Database<DB>, 'db'>;
    redis: RedisClient | undefined;
    /** The model groups a call may name (`GROUNDWORK_ROUTES`): calls for them are priced over their deployments. */
    routes?: Pick<RoutesConfig, 'groups'> | undefined;
    /** Where an outage of Redis, a failed settlement or a failed sweep of the database's budget counters is reported. @default silent */
    logger?: Logger;
    /** Where failures of Redis and of settlements are counted (`groundwork_store_failures_total`). */
    metrics?: GroundworkMetrics;
    clock?: Clock;
  },
  options: {
    /** Listen for changes made on other replicas (Redis pub/sub), as a long-running service should. @default false */
    listen?: boolean;
  } = {},
): TenantServices {
  const { config, redis } = parts;
  const db = groundworkTables(parts.database.db);
  const prefix = `${config.redis.keyPrefix}tenants:`;
  const repository = new TenantRepository(db);
  const prices = new PriceBook(config.llm.prices);
  const { budgets, rateLimits } = stores(parts, db, prefix);
  const admission = new TenantAdmission({
    budgets,
    rateLimits,
    prices,
    leaseMs: config.tenants.reservationLeaseMs,
    maxOutputTokens: config.tenants.maxOutputTokensEstimate,
    minOutputTokens: config.tenants.minOutputTokens,
    maxWaitMs: config.tenants.budgetMaxWaitMs,
    fallbackModels: config.resilience.fallbacks.map((fallback) => fallback.model),
    groups: parts.routes?.groups,
    logger: parts.logger,
    metrics: parts.metrics,
  });
  const directory = new KeyDirectory(repository, { ttlMs: config.tenants.keyCacheTtlMs, models: parts.metrics?.models });
  const bus =
    redis === undefined || options.listen !== true
      ? undefined
      : redisKeyChangeBus(redis, config.redis.keyPrefix, () => directory.invalidate());
  const batches = new BatchBudgets({
    budgets,
    prices,
    admission,
    repository,
    repositoryWithin: (session) => new TenantRepository(groundworkTables(session)),
    clock: parts.clock,
  });
  return {
    repository,
    directory,
    admission,
    batches,
    prices,
    usage: (query) => usageReport(db, query),
    async rebuildBudgets(scope, reference) {
      const owner: BudgetOwner =
        scope === 'key'
          ? await repository.showKey(reference).then((key) => ({ scope, id: key.id, settings: key }))
          : await repository.showTeam(reference).then((team) => ({ scope, id: team.id, settings: team }));
      const rebuilt: RebuiltBudget[] = [];
      for (const limit of budgetLimits([owner], (parts.clock ?? systemClock).now())) {
        const spentNano = (await budgets.rebuild?.(limit.counter, limit.expiresAt)) ?? 0;
        rebuilt.push({ counter: limit.counter, limitUsd: fromNano(limit.limitNano), spentUsd: fromNano(spentNano) });
      }
      return rebuilt;
    },
    async changed() {
      directory.invalidate();
      if (redis === undefined) return false;
      // A lost announcement only delays the change on other replicas to the cache's TTL.
      return publishKeyChange(redis, config.redis.keyPrefix).then(
        () => true,
        () => false,
      );
    },
    listening: (waitMs) => bus?.listening(waitMs) ?? Promise.resolve(true),
    async close() {
      bus?.close();
      await admission.close();
      await budgets.close?.();
    },
  };
}

/**
 * Budgets and rates in Redis, falling back as `LLM_RATE_LIMIT_ON_STORE_FAILURE` says when it
 * fails (a local share of each budget and limit, ÷ `LLM_EXPECTED_REPLICAS`, or refusal); without
 * Redis, budgets in the database and rates in this process.
 */
function stores(
  parts: { config: AppConfig; redis: RedisClient | undefined; logger?: Logger; metrics?: GroundworkMetrics; clock?: Clock },
  db: ReturnType<typeof groundworkTables>,
  prefix: string,
): { budgets: BudgetStore; rateLimits: (rules: RateLimitRules) => RateLimitStore } {
  const { config, redis } = parts;
  const ledger = ledgerSpend(db);
  const logger = parts.logger ?? silentLogger();
  if (redis === undefined) {
    return {
      budgets: new DatabaseBudgetStore(db, ledger, { logger, metrics: parts.metrics }),
      rateLimits: (rules) => new MemoryRateLimitStore(rules, { reportLevels: true }),
    };
  }
  const clock = parts.clock ?? systemClock;
  const { onStoreFailure, expectedReplicas } = config.resilience;
  const local = onStoreFailure === 'local';
  const budgets = new FailoverBudgetStore({
    shared: new RedisBudgetStore(redis, prefix, ledger),
    local: local ? new MemoryBudgetStore() : undefined,
    failover: new StoreFailover({ component: 'tenant_budget', logger, metrics: parts.metrics, clock }),
    replicas: expectedReplicas,
    ledger,
    logger,
    metrics: parts.metrics,
    clock,
  });
  const rateFailover = new StoreFailover({ component: 'tenant_rate_limit', logger, metrics: parts.metrics, clock });
  return {
    budgets,
    rateLimits: (rules) =>
      new FailoverRateLimitStore(
        new RedisRateLimitStore(redis, rules, prefix),
        local ? new MemoryRateLimitStore(shareOf(rules, expectedReplicas), { startEmpty: true, reportLevels: true }) : undefined,
        rateFailover,
      ),
  };
}

/** A replica's share of per-minute limits: each divided by the replicas, at least 1. */
function shareOf(rules: RateLimitRules, replicas: number): RateLimitRules {
  const share = (capacity: number) => replicaShare(capacity, replicas);
  return {
    requests: { ...rules.requests, capacity: share(rules.requests.capacity) },
    tokens: rules.tokens === undefined ? undefined : { ...rules.tokens, capacity: share(rules.tokens.capacity) },
  };
}
