import type { AppConfig } from '../config/app-config.js';
import type { Database } from '../db/database.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import type { RedisClient } from '../internal/redis.js';
import { PriceBook } from '../llm/pricing.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import { RedisRateLimitStore } from '../resilience/redis-rate-limit-store.js';
import { DatabaseBudgetStore } from './database-budget-store.js';
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
}

/**
 * Builds the tenant services over an instance's database and, when `REDIS_URL` is set, its
 * Redis: budgets and rates then live in Redis (one Lua script per change); without Redis,
 * budgets live in the database (one transaction per change) and rates in this process.
 */
export function createTenantServices<DB>(parts: {
  config: AppConfig;
  database: Pick<Database<DB>, 'db'>;
  redis: RedisClient | undefined;
}): TenantServices {
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
  });
  const directory = new KeyDirectory(repository, { ttlMs: config.tenants.keyCacheTtlMs });
  return { repository, directory, admission, prices, usage: (options) => usageReport(db, options) };
}
