import { describe, expect, it } from 'vitest';
import { counterExpiresAt } from './budget-limits.js';

describe('counterExpiresAt', () => {
  const day = 86_400_000;

  it('is two days after a day’s or a month’s end, and none for a total', () => {
    expect(counterExpiresAt('key:k1:day:2026-11-30')).toBe(Date.UTC(2026, 11, 1) + 2 * day);
    expect(counterExpiresAt('team:t1:month:2026-12')).toBe(Date.UTC(2027, 0, 1) + 2 * day);
    expect(counterExpiresAt('key:k1:total')).toBeUndefined();
  });

  it('is none for a name of the pattern that is not a real date, never NaN', () => {
    expect(counterExpiresAt('key:k1:month:2026-13')).toBeUndefined();
    expect(counterExpiresAt('key:k1:day:2026-00-01')).toBeUndefined();
  });
});
