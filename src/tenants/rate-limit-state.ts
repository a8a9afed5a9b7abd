import type { RateLimitRules, TakeResult } from '../resilience/rate-limit-store.js';

/** One per-minute limit as a caller sees it. */
export interface LimitState {
  limit: number;
  /** What is left now, rounded down. */
  remaining: number;
  /** Until the bucket is full again, in ms. */
  resetMs: number;
}

/** A key's (or, when it has none, its team's) requests and tokens per minute, after a take. */
export interface TenantRateLimitState {
  requests: LimitState | undefined;
  tokens: LimitState | undefined;
}

/** The state of `rules`' buckets from the levels a store answered; undefined when it answered none. */
export function rateLimitState(rules: RateLimitRules, result: TakeResult, requestsLimited: boolean): TenantRateLimitState | undefined {
  const levels = result.levels;
  if (levels === undefined) return undefined;
  const state = (capacity: number, windowMs: number, level: number): LimitState => {
    const remaining = Math.max(0, Math.min(capacity, level));
    return { limit: capacity, remaining: Math.floor(remaining), resetMs: Math.ceil(((capacity - remaining) * windowMs) / capacity) };
  };
  return {
    requests: requestsLimited ? state(rules.requests.capacity, rules.requests.windowMs, levels.requests) : undefined,
    tokens:
      rules.tokens === undefined || levels.tokens === undefined
        ? undefined
        : state(rules.tokens.capacity, rules.tokens.windowMs, levels.tokens),
  };
}

/** A duration as OpenAI writes it in `x-ratelimit-reset-*`: `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`. */
export function resetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const totalSeconds = Math.ceil(ms) / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.round((totalSeconds % 60) * 1000) / 1000;
  return `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${seconds}s`;
}

/** The `x-ratelimit-*` headers of a state, in OpenAI's names and format. */
export function rateLimitStateHeaders(state: TenantRateLimitState): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    const limit = state[kind];
    if (limit === undefined) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(limit.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(limit.remaining);
    headers[`x-ratelimit-reset-${kind}`] = resetDuration(limit.resetMs);
  }
  return headers;
}
