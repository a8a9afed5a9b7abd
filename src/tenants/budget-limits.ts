import { LONGEST_BATCH_LEASE_MS } from './batch-lease.js';
import type { BudgetLimit } from './budget-store.js';
import { budgetToNano as toNano } from './budget-store.js';
import { ledgerScope } from './ledger-spend.js';
import type { TenantSettings } from './tenant-settings.js';

/**
 * How long a period's counter is kept after the period ends, so late settlements still find it:
 * two days, or longer when a batch's reservation, made as the period ends, may be held longer
 * (its settlement must find the counter while the reservation holds).
 */
export const KEEP_AFTER_PERIOD_MS = Math.max(2 * 86_400_000, LONGEST_BATCH_LEASE_MS);

/** Whose budget: a key's or a team's. */
export interface BudgetOwner {
  scope: 'key' | 'team';
  id: string;
  settings: Pick<TenantSettings, 'dailyBudgetUsd' | 'monthlyBudgetUsd' | 'totalBudgetUsd'>;
}

/**
 * The budgets a call made at `now` counts against: each set daily (UTC calendar day), monthly
 * (UTC calendar month) and total budget of each owner. A call is counted in the period in which
 * it was admitted, even when it settles after the period ended.
 */
export function budgetLimits(owners: readonly BudgetOwner[], now: number): BudgetLimit[] {
  const date = new Date(now);
  const day = date.toISOString().slice(0, 10);
  const month = day.slice(0, 7);
  const nextDay = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  const nextMonth = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  const limits: BudgetLimit[] = [];
  for (const { scope, id, settings } of owners) {
    if (settings.dailyBudgetUsd !== null) {
      limits.push({
        counter: `${scope}:${id}:day:${day}`,
        limitNano: toNano(settings.dailyBudgetUsd),
        expiresAt: nextDay + KEEP_AFTER_PERIOD_MS,
      });
    }
    if (settings.monthlyBudgetUsd !== null) {
      limits.push({
        counter: `${scope}:${id}:month:${month}`,
        limitNano: toNano(settings.monthlyBudgetUsd),
        expiresAt: nextMonth + KEEP_AFTER_PERIOD_MS,
      });
    }
    if (settings.totalBudgetUsd !== null)
      limits.push({ counter: `${scope}:${id}:total`, limitNano: toNano(settings.totalBudgetUsd), expiresAt: undefined });
  }
  return limits;
}

/**
 * When a counter named as {@link budgetLimits} names them may be forgotten, in ms since the epoch:
 * its period's end plus the margin late settlements need; undefined for a total budget, a name that
 * is not a real date, or any other counter, which is kept. For a store that is handed a counter's name without its {@link BudgetLimit}.
 */
export function counterExpiresAt(counter: string): number | undefined {
  const end = ledgerScope(counter)?.to?.getTime();
  // A name of the pattern that is not a real date (`…:month:2026-13`) has no period: it is kept.
  return end === undefined || !Number.isFinite(end) ? undefined : end + KEEP_AFTER_PERIOD_MS;
}
