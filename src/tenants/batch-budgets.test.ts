import { describe, expect, it } from 'vitest';
import { PriceBook } from '../llm/pricing.js';
import { silentLogger } from '../observability/logger.js';
import { StoreFailover } from '../resilience/store-failover.js';
import { ManualClock } from '../testing/manual-clock.js';
import { BatchBudgets } from './batch-budgets.js';
import type { BudgetStore } from './budget-store.js';
import { FailoverBudgetStore } from './failover-budget-store.js';
import { MemoryBudgetStore } from './memory-budget-store.js';
import { BudgetStoreUnavailableError } from './tenant-refusals.js';
import { OPEN_SETTINGS } from './tenant-settings.js';
import type { VirtualKey } from './virtual-key.js';

const key: VirtualKey = {
  ...OPEN_SETTINGS,
  id: 'key_batch',
  name: 'batch',
  prefix: 'gw-abcdef',
  teamId: null,
  expiresAt: null,
  revokedAt: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  totalBudgetUsd: 10,
};
const prices = new PriceBook({ 'metered-model': { input: 1000, output: 1000 } });
const batch = {
  model: 'metered-model',
  requests: [{ model: 'metered-model', messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 10 }],
  leaseMs: 30 * 3_600_000,
};

/** One replica's batch budgets over `shared` (Redis), with a local share for outages. */
function replica(shared: BudgetStore, clock: ManualClock): BatchBudgets {
  const logger = silentLogger();
  const budgets = new FailoverBudgetStore({
    shared,
    local: new MemoryBudgetStore(),
    failover: new StoreFailover({ component: 'tenant_budget', logger, metrics: undefined, clock, retryMs: 1000, timeoutMs: 2000 }),
    replicas: 1,
    logger,
    clock,
  });
  return new BatchBudgets({
    budgets,
    prices,
    admission: { check: () => {} },
    repository: { showKey: async () => key, showTeam: async () => Promise.reject(new Error('no team')) },
    clock,
  });
}

describe('BatchBudgets while Redis is unreachable', () => {
  it("refuses a batch rather than reserve it in the enqueuing replica's local share, where the worker settling it would never find it", async () => {
    const clock = new ManualClock(Date.parse('2026-11-30T12:00:00Z'));
    const redis = new MemoryBudgetStore();
    let down = true;
    const flaky: BudgetStore = {
      reserve: (request) => (down ? Promise.reject(new Error('Connection is closed.')) : redis.reserve(request)),
      settle: (...args) => redis.settle(...args),
      read: (counters, now) => redis.read(counters, now),
    };
    const enqueuer = replica(flaky, clock);
    const worker = replica(redis, clock);
    await expect(enqueuer.reserve('batch', batch)).rejects.toBeInstanceOf(BudgetStoreUnavailableError);
    // Once Redis answers, the batch is reserved there, and the worker's settlement counts.
    down = false;
    clock.advance(1000);
    const { reservation } = await enqueuer.reserve('batch', batch);
    expect(reservation).toBeDefined();
    clock.advance(3_600_000);
    await worker.settle(reservation as NonNullable<typeof reservation>, 0.4);
    expect(await worker.read(reservation?.counters ?? [])).toEqual([
      { counter: 'key:key_batch:total', spentNano: 400_000_000, reservedNano: 0 },
    ]);
  });
});
