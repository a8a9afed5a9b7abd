import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles per attempt with jitter, always within the bounds', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, 2000, 10_000, () => 0))).toEqual([2000, 4000, 8000, 10_000]);
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, 2000, 10_000, () => 0.999))).toEqual([3998, 7996, 10_000, 10_000]);
    for (let attempt = 1; attempt < 30; attempt++) {
      const delay = backoffDelay(attempt, 2000, 10_000, Math.random);
      expect(delay).toBeGreaterThanOrEqual(2000);
      expect(delay).toBeLessThanOrEqual(10_000);
    }
  });

  it('is zero when both bounds are', () => {
    expect(backoffDelay(3, 0, 0, Math.random)).toBe(0);
  });
});
