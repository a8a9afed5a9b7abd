import { describe, expect, it } from 'vitest';
import { LONGEST_BATCH_LEASE_MS } from './batch-lease.js';
import { budgetLimits, counterExpiresAt } from './budget-limits.js';

describe('counterExpiresAt', () => {
  const hour = 3_600_000;

  it('is 54 hours after a day’s or a month’s end, and none for a total', () => {
    expect(counterExpiresAt('key:k1:day:2026-11-30')).toBe(Date.UTC(2026, 11, 1) + 54 * hour);
    expect(counterExpiresAt('team:t1:month:2026-12')).toBe(Date.UTC(2027, 0, 1) + 54 * hour);
    expect(counterExpiresAt('key:k1:total')).toBeUndefined();
  });

  it('is none for a name of the pattern that is not a real date, never NaN', () => {
    expect(counterExpiresAt('key:k1:month:2026-13')).toBeUndefined();
    expect(counterExpiresAt('key:k1:day:2026-00-01')).toBeUndefined();
  });

  it('outlives the longest lease of a batch reserved as its period ends', () => {
    const lastMoment = Date.UTC(2026, 10, 30, 23, 59, 59, 999);
    const owner = { scope: 'key' as const, id: 'k1', settings: { dailyBudgetUsd: 1, monthlyBudgetUsd: 1, totalBudgetUsd: null } };
    for (const limit of budgetLimits([owner], lastMoment)) {
      expect(limit.expiresAt).toBeGreaterThanOrEqual(lastMoment + LONGEST_BATCH_LEASE_MS);
      expect(counterExpiresAt(limit.counter)).toBe(limit.expiresAt);
    }
  });
});
