import type { AppConfig } from '../config/app-config.js';
import type { Database } from '../db/database.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import type { RedisClient } from '../internal/redis.js';
import { PriceBook } from '../llm/pricing.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import { RedisRateLimitStore } from '../resilience/redis-rate-limit-store.js';
import { DatabaseBudgetStore } from './database-budget-store.js';
import { publishKeyChange, redisKeyChangeBus } from './key-change-bus.js';
import { KeyDirectory } from './key-directory.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { TenantAdmission } from './tenant-admission.js';
import { TenantRepository } from './tenant-repository.js';
import { type UsageGrouping, type UsageRow, usageReport } from './usage-report.js';

/** Keys, their lookup and their admission, built from an instance's configuration. */
export interface TenantServices {
  repository: TenantRepository;
  directory: KeyDirectory;
  admission: TenantAdmission;
  prices: PriceBook;
  /** The ledger's usage by key, team, model or prompt. */
  usage(options: { by: UsageGrouping; since: Date }): Promise<UsageRow[]>;
  /**
   * After a change: drops this process's cached keys and, with Redis, announces the change so
   * every listening replica drops its own. Resolves true once announced, false without Redis or
   * when the announcement failed (replicas then see the change within `TENANT_KEY_CACHE_TTL_MS`).
   * Never rejects.
   */
  changed(): Promise<boolean>;
  /** Stops listening for changes. Idempotent. */
  close(): void;
}

/**
 * Builds the tenant services over an instance's database and, when `REDIS_URL` is set, its
 * Redis: budgets and rates then live in Redis (one Lua script per change); without Redis,
 * budgets live in the database (one transaction per change) and rates in this process.
 */
export function createTenantServices<DB>(
  parts: { config: AppConfig; database: Pick<Database<DB>, 'db'>; redis: RedisClient | undefined },
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
  const admission = new TenantAdmission({
    budgets: redis === undefined ? new DatabaseBudgetStore(db) : new RedisBudgetStore(redis, prefix),
    rateLimits: (rules) => (redis === undefined ? new MemoryRateLimitStore(rules) : new RedisRateLimitStore(redis, rules, prefix)),
    prices,
    leaseMs: config.tenants.reservationLeaseMs,
    maxOutputTokens: config.tenants.maxOutputTokensEstimate,
    minOutputTokens: config.tenants.minOutputTokens,
    maxWaitMs: config.tenants.budgetMaxWaitMs,
    fallbackModels: config.resilience.fallbacks.map((fallback) => fallback.model),
  });
  const directory = new KeyDirectory(repository, { ttlMs: config.tenants.keyCacheTtlMs });
  const bus =
    redis === undefined || options.listen !== true
      ? undefined
      : redisKeyChangeBus(redis, config.redis.keyPrefix, () => directory.invalidate());
  return {
    repository,
    directory,
    admission,
    prices,
    usage: (query) => usageReport(db, query),
    async changed() {
      directory.invalidate();
      if (redis === undefined) return false;
      // A lost announcement only delays the change on other replicas to the cache's TTL.
      return publishKeyChange(redis, config.redis.keyPrefix).then(
        () => true,
        () => false,
      );
    },
    close: () => bus?.close(),
  };
}
