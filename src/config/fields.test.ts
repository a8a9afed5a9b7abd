import { describe, expect, it } from 'vitest';
import { integerField, optionalIntegerField, optionalNumberField } from './fields.js';
import { parseEnvironment } from './parse-environment.js';

const context = { azureTokenProvider: false, isTty: false };

describe('integerField', () => {
  const field = integerField(5, 0, 100_000);

  it('reads decimal digits, grouped by _ or not, around spaces, and takes the default when unset or empty', () => {
    expect(field('42')).toEqual({ ok: true, value: 42 });
    expect(field(' 12 ')).toEqual({ ok: true, value: 12 });
    expect(field('010')).toEqual({ ok: true, value: 10 });
    expect(field('10_000')).toEqual({ ok: true, value: 10_000 });
    expect(field(undefined)).toEqual({ ok: true, value: 5 });
    expect(field('')).toEqual({ ok: true, value: 5 });
    expect(field('  ')).toEqual({ ok: true, value: 5 });
  });

  it.each(['0x10', '0b1', '0o7', '1e3', '1E3', '1.0', '1.5', '+5', 'Infinity', '1_', '_1', '1__0', '12 34', 'ten', '30s'])(
    'refuses %j, which Number() would read as some number or none, saying what to write',
    (raw) => {
      expect(field(raw)).toEqual({ ok: false, message: 'must be a whole number in decimal digits, between 0 and 100000' });
    },
  );

  it('refuses a number out of range, negative ones included', () => {
    expect(field('-1')).toEqual({ ok: false, message: 'must be between 0 and 100000' });
    expect(field('100001')).toEqual({ ok: false, message: 'must be between 0 and 100000' });
    expect(optionalIntegerField(1)('99999999999999999999')).toMatchObject({ ok: false });
  });
});

describe('optionalNumberField', () => {
  const field = optionalNumberField(0, 1000);

  it('reads decimal numbers with or without a fraction', () => {
    expect(field('0.5')).toEqual({ ok: true, value: 0.5 });
    expect(field('.5')).toEqual({ ok: true, value: 0.5 });
    expect(field('2.')).toEqual({ ok: true, value: 2 });
    expect(field(' 12.25 ')).toEqual({ ok: true, value: 12.25 });
    expect(field('')).toEqual({ ok: true, value: undefined });
  });

  it.each(['0x10', '0b1', '1e3', 'Infinity', '.', '-', '1.2.3', '1,5'])('refuses %j', (raw) => {
    expect(field(raw)).toEqual({ ok: false, message: 'must be a decimal number between 0 and 1000' });
  });
});

describe('number variables', () => {
  it('refuses hex, binary and exponent forms, naming every such variable at once', () => {
    const { config, errors } = parseEnvironment(
      { PORT: '0x1F90', DB_POOL_SIZE: '1e1', LLM_TIMEOUT_MS: '0b1010', JOBS_STUCK_AFTER_MS: '6e5', LLM_CACHE_TTL_SECONDS: '3600' },
      context,
    );
    expect(config).toBeUndefined();
    expect(errors.map((error) => error.variable).sort()).toEqual(['DB_POOL_SIZE', 'JOBS_STUCK_AFTER_MS', 'LLM_TIMEOUT_MS', 'PORT']);
    for (const error of errors) {
      expect(error.message).toMatch(/^must be a whole number in decimal digits, between \d+ and \d+$/);
      expect(error.example).toMatch(/^\d+$/);
    }
  });
});
