import { describe, expect, it } from 'vitest';
import { TenantInputError } from './tenant-errors.js';
import { KEY_FIELDS, TEAM_FIELDS, tenantFields } from './tenant-fields.js';

function refusal(body: Record<string, unknown>, kind: 'key' | 'team', now?: Date): TenantInputError {
  try {
    tenantFields(body, kind, now);
  } catch (error) {
    if (error instanceof TenantInputError) return error;
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('tenantFields', () => {
  it('takes the fields that are set, and makes a key’s expiry a date (null kept)', () => {
    expect(tenantFields({ name: 'a', dailyBudgetUsd: 5, enabled: undefined }, 'team')).toEqual({ name: 'a', dailyBudgetUsd: 5 });
    expect(tenantFields({ name: 'b', team: 't', expiresAt: '2030-01-02T03:04:05Z' }, 'key')).toEqual({
      name: 'b',
      team: 't',
      expiresAt: new Date('2030-01-02T03:04:05Z'),
    });
    expect(tenantFields({ expiresAt: null }, 'key')).toEqual({ expiresAt: null });
  });

  it('refuses a key’s expiry that is not after now, naming every other bad field with it', () => {
    const now = new Date('2030-06-01T12:00:00Z');
    const past = refusal({ name: 'a', expiresAt: '2030-06-01T11:59:59Z' }, 'key', now);
    expect(past.field).toBe('expiresAt');
    expect(past.message).toContain('expiresAt: 2030-06-01T11:59:59.000Z is already past, so the key would be refused from its first call');
    expect(refusal({ name: 'a', expiresAt: '2030-06-01T12:00:00Z' }, 'key', now).field).toBe('expiresAt');
    const several = refusal({ name: 'key_x', expiresAt: '2020-01-01', dailyBudgetUsd: -1, requestsPerMinute: 0.5 }, 'key', now);
    expect(several.field).toBe('expiresAt, name, requestsPerMinute, dailyBudgetUsd');
    expect(tenantFields({ name: 'a', expiresAt: '2030-06-01T12:00:01Z' }, 'key', now)).toEqual({
      name: 'a',
      expiresAt: new Date('2030-06-01T12:00:01Z'),
    });
    // Not a date: left to the repository, which refuses it with the other fields' problems.
    expect(tenantFields({ expiresAt: 'next tuesday' }, 'key', now)['expiresAt']).toBeInstanceOf(Date);
  });

  it('refuses a field the kind does not have, naming it, the kind and the fields it has', () => {
    const error = refusal({ name: 'a', expiresAt: null }, 'team');
    expect(error.code).toBe('tenant_invalid');
    expect(error.field).toBe('expiresAt');
    expect(error.message).toBe(`expiresAt: not a field of a team; the fields are ${TEAM_FIELDS.join(', ')}`);
    expect(KEY_FIELDS).toEqual([...TEAM_FIELDS, 'team', 'expiresAt']);
  });

  it('names at most five unknown fields, in the order sent, and says how many more', () => {
    const body = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'name'].map((field) => [field, 1]));
    expect(refusal(body, 'key').message).toMatch(/^a, b, c, d, e and 2 more: not fields of a key;/);
  });

  it('repeats only the start of a very long field name', () => {
    const long = 'x'.repeat(10_000);
    const error = refusal({ [long]: 1 }, 'key');
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain(`${'x'.repeat(60)}…: not a field of a key`);
  });
});
