import { describe, expect, it } from 'vitest';
import { TenantInputError } from './tenant-errors.js';
import { checkName } from './tenant-name.js';
import { settingsToRow } from './tenant-settings.js';

function refusal(run: () => unknown): TenantInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof TenantInputError) return error;
    throw error;
  }
  throw new Error('the settings were accepted');
}

describe('settingsToRow', () => {
  it('names every bad field at once, each with what to fix', () => {
    const error = refusal(() => settingsToRow({ requestsPerMinute: 0, dailyBudgetUsd: -1, enabled: 'yes' as never }));
    expect(error.code).toBe('tenant_invalid');
    expect(error.field).toBe('requestsPerMinute, dailyBudgetUsd, enabled');
    expect(error.message).toBe(
      'requestsPerMinute: must be a whole number of at least 1, or null for no limit (got 0); ' +
        'dailyBudgetUsd: must be an amount in USD from 0 to 1e9, or null for no budget (got -1); ' +
        'enabled: must be true or false',
    );
  });

  it('names a bad name beside bad settings, from the checks it is given', () => {
    const error = refusal(() => settingsToRow({ maxConcurrent: 1.5 }, [() => checkName('key_spoof')]));
    expect(error.field).toBe('name, maxConcurrent');
    expect(error.message).toMatch(/^name: must not start with "key_" or "team_", which ids use; maxConcurrent: must be a whole number/);
  });

  it('refuses one bad field as before, and takes good settings', () => {
    expect(refusal(() => settingsToRow({ totalBudgetUsd: Number.NaN })).message).toBe(
      'totalBudgetUsd: must be an amount in USD from 0 to 1e9, or null for no budget (got NaN)',
    );
    expect(settingsToRow({ requestsPerMinute: 60, dailyBudgetUsd: null, enabled: false })).toEqual({
      rpm_limit: 60,
      budget_daily_usd: null,
      enabled: false,
    });
  });
});
