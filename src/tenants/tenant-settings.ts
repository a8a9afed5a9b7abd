import type { Selectable, Updateable } from 'kysely';
import type { TenantSettingsColumns } from '../db/groundwork-tables.js';
import { TenantInputError, type TenantInputProblem } from './tenant-errors.js';

/**
 * What a key or a team may use and spend. A team's settings bound all of its keys together; a
 * key's bound the key alone; a call must fit both. `null` means "no limit" (or "any model").
 */
export interface TenantSettings {
  /** Free-form labels (owner, customer id…); never used for decisions. */
  metadata: Record<string, unknown> | null;
  /** Model names or model groups the caller may ask for; null: any. */
  allowedModels: string[] | null;
  /** Requests per minute, held across every replica. */
  requestsPerMinute: number | null;
  /** Tokens (prompt + completion) per minute, held across every replica. */
  tokensPerMinute: number | null;
  /** Calls in flight at once, across every replica. */
  maxConcurrent: number | null;
  /** USD per calendar day (UTC). */
  dailyBudgetUsd: number | null;
  /** USD per calendar month (UTC). */
  monthlyBudgetUsd: number | null;
  /** USD over the key's or team's whole life. */
  totalBudgetUsd: number | null;
  /** A disabled key or team is refused until enabled again. */
  enabled: boolean;
}

/** The settings when none are given: no limits, any model, enabled. */
export const OPEN_SETTINGS: Readonly<TenantSettings> = Object.freeze({
  metadata: null,
  allowedModels: null,
  requestsPerMinute: null,
  tokensPerMinute: null,
  maxConcurrent: null,
  dailyBudgetUsd: null,
  monthlyBudgetUsd: null,
  totalBudgetUsd: null,
  enabled: true,
});

type SettingsRow = Omit<Selectable<TenantSettingsColumns>, 'created_at' | 'updated_at'>;
type SettingsChanges = Omit<Updateable<TenantSettingsColumns>, 'created_at' | 'updated_at'>;

/** Settings from a row. */
export function settingsFromRow(row: SettingsRow): TenantSettings {
  return {
    metadata: row.metadata,
    allowedModels: row.allowed_models,
    requestsPerMinute: row.rpm_limit,
    tokensPerMinute: row.tpm_limit,
    maxConcurrent: row.max_concurrent,
    dailyBudgetUsd: row.budget_daily_usd,
    monthlyBudgetUsd: row.budget_monthly_usd,
    totalBudgetUsd: row.budget_total_usd,
    enabled: row.enabled,
  };
}

/**
 * The columns for `changes`, validated; only the fields given. `checks` are the input's other
 * checks (its name, a key's expiry), run first, so that one {@link TenantInputError} names every
 * bad field at once rather than the first alone.
 *
 * @throws TenantInputError naming each bad field and what to fix in it.
 */
export function settingsToRow(changes: Partial<TenantSettings>, checks: ReadonlyArray<() => unknown> = []): SettingsChanges {
  const problems: TenantInputProblem[] = [];
  const check = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof TenantInputError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  for (const run of checks) check(run);
  const row: SettingsChanges = {};
  if (changes.metadata !== undefined) row.metadata = check(() => checkMetadata(changes.metadata ?? null));
  if (changes.allowedModels !== undefined) row.allowed_models = check(() => jsonText(checkModels(changes.allowedModels ?? null)));
  if (changes.requestsPerMinute !== undefined)
    row.rpm_limit = check(() => checkCount('requestsPerMinute', changes.requestsPerMinute ?? null));
  if (changes.tokensPerMinute !== undefined) row.tpm_limit = check(() => checkCount('tokensPerMinute', changes.tokensPerMinute ?? null));
  if (changes.maxConcurrent !== undefined) row.max_concurrent = check(() => checkCount('maxConcurrent', changes.maxConcurrent ?? null));
  if (changes.dailyBudgetUsd !== undefined) row.budget_daily_usd = check(() => checkUsd('dailyBudgetUsd', changes.dailyBudgetUsd ?? null));
  if (changes.monthlyBudgetUsd !== undefined)
    row.budget_monthly_usd = check(() => checkUsd('monthlyBudgetUsd', changes.monthlyBudgetUsd ?? null));
  if (changes.totalBudgetUsd !== undefined) row.budget_total_usd = check(() => checkUsd('totalBudgetUsd', changes.totalBudgetUsd ?? null));
  if (changes.enabled !== undefined) row.enabled = check(() => checkEnabled(changes.enabled));
  if (problems.length > 0) throw new TenantInputError(problems);
  return row;
}

function checkEnabled(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TenantInputError('enabled', 'must be true or false');
  return value;
}

function checkCount(field: string, value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TenantInputError(field, `must be a whole number of at least 1, or null for no limit (got ${String(value)})`);
  return value;
}

function checkUsd(field: string, value: number | null): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1e9) {
    throw new TenantInputError(field, `must be an amount in USD from 0 to 1e9, or null for no budget (got ${String(value)})`);
  }
  return value;
}

function checkModels(value: string[] | null): string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.some((model) => typeof model !== 'string' || model.trim() === '')) {
    throw new TenantInputError('allowedModels', 'must be a list of model names, or null for any model');
  }
  return [...new Set(value.map((model) => model.trim()))];
}

function checkMetadata(value: Record<string, unknown> | null): Record<string, unknown> | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TenantInputError('metadata', 'must be a JSON object');
  if (JSON.stringify(value).length > 16_384) throw new TenantInputError('metadata', 'must be at most 16 KiB of JSON');
  return value;
}

function jsonText(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}
