import { describe, expect, it } from 'vitest';
import { rateLimitState, rateLimitStateHeaders, resetDuration } from './rate-limit-state.js';

describe('rate-limit headers of a key', () => {
  it("writes durations as OpenAI's headers do", () => {
    expect(resetDuration(0)).toBe('0ms');
    expect(resetDuration(20)).toBe('20ms');
    expect(resetDuration(1000)).toBe('1s');
    expect(resetDuration(1500)).toBe('1.5s');
    expect(resetDuration(360_000)).toBe('6m0s');
    expect(resetDuration(3_723_000)).toBe('1h2m3s');
  });

  it('reports limit, what remains (rounded down) and the time until the bucket is full', () => {
    const rules = { requests: { capacity: 60, windowMs: 60_000 }, tokens: { capacity: 1000, windowMs: 60_000 } };
    const state = rateLimitState(rules, { granted: true, waitMs: 0, limit: 'requests', levels: { requests: 59.5, tokens: 400 } }, true);
    expect(rateLimitStateHeaders(state as never)).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '500ms',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '400',
      'x-ratelimit-reset-tokens': '36s',
    });
    // A token bucket in debt (tokens reconciled upwards) shows 0 remaining.
    const debt = rateLimitState(rules, { granted: false, waitMs: 5, limit: 'tokens', levels: { requests: 10, tokens: -20 } }, false);
    expect(debt?.requests).toBeUndefined();
    expect(debt?.tokens).toEqual({ limit: 1000, remaining: 0, resetMs: 60_000 });
    expect(rateLimitState(rules, { granted: true, waitMs: 0, limit: 'requests' }, true)).toBeUndefined();
  });
});
