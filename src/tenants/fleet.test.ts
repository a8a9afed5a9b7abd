import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBudget, runOverload, startTenantFleet, type TenantFleet } from '../../test/tenant-fleet-scenarios.js';

/*
 * Real `groundwork serve` processes sharing one PostgreSQL database and one Redis: the budget and
 * the limits hold across processes, not only across admissions in one. The full-size figures
 * (4 processes, 400 calls, $1.00) are `npm run bench -- budget`.
 */
describe('virtual keys across serve processes', () => {
  let overload: TenantFleet;

  beforeAll(async () => {
    overload = await startTenantFleet(2);
  }, 240_000);

  afterAll(async () => {
    await overload?.close();
  }, 60_000);

  it("holds a key's requests per minute under 3× overload, and admits ≥ 95% of what it allows", async () => {
    const run = await runOverload(overload, { kind: 'requests', limit: 30, workers: 6, maxTokens: 5 });
    expect(run.offered).toBeGreaterThanOrEqual(90);
    expect(run.admitted).toBeLessThanOrEqual(run.allowed);
    expect(run.admitted).toBeGreaterThanOrEqual(Math.floor(0.95 * run.limit));
  }, 120_000);

  it("holds a key's tokens per minute under 3× overload, and admits ≥ 95% of what it allows", async () => {
    // Each call reserves its worst case (a 19-token prompt bound and 5 output tokens) and gives back what it did not use.
    const run = await runOverload(overload, { kind: 'tokens', limit: 1200, workers: 6, maxTokens: 5 });
    expect(run.admitted).toBeLessThanOrEqual(run.allowed);
    expect(run.admitted).toBeGreaterThanOrEqual(Math.floor(0.95 * run.limit));
  }, 120_000);

  it('never settles more than a $0.25 budget under 120 concurrent calls, and uses ≥ 95% of it before refusing', async () => {
    const budget = await startTenantFleet(2);
    try {
      const run = await runBudget(budget, { calls: 120, budgetUsd: 0.25 });
      expect(run.otherFailures, budget.fleet.logs().slice(0, 4000)).toBe(0);
      expect(run.refusedForBudget).toBeGreaterThan(0);
      expect(run.overspendUsd, budget.fleet.logs().slice(0, 4000)).toBe(0);
      expect(run.settledUsd).toBeLessThanOrEqual(0.25);
      expect(run.usedBeforeFirstRefusal, budget.fleet.logs().slice(0, 4000)).toBeGreaterThanOrEqual(0.95);
    } finally {
      await budget.close();
    }
  }, 400_000);
});
