import type { RateLimitKind } from './errors.js';
import type { BucketRule } from './token-bucket.js';

/** The rules a store enforces for every key: requests, and tokens when limited. */
export interface RateLimitRules {
  requests: BucketRule;
  /** Undefined: no token limit. */
  tokens: BucketRule | undefined;
}

/** What a store answers to {@link RateLimitStore.take}. */
export interface TakeResult {
  granted: boolean;
  /** When not granted: ms until the bucket is expected to grant the same cost. */
  waitMs: number;
  /** When not granted: the bucket that refused. */
  limit: RateLimitKind;
  /**
   * The buckets' levels after the take (or at the refusal), when the store reports them: what
   * `x-ratelimit-remaining-*` headers show. `tokens` is undefined without a token limit.
   */
  levels?: { requests: number; tokens: number | undefined };
}

/** The one granted answer, shared so the hot path allocates nothing. */
export const GRANTED: TakeResult = Object.freeze({ granted: true, waitMs: 0, limit: 'requests' });

/**
 * Where token buckets live: in this process or shared (Redis). Each key holds a request bucket
 * and, when tokens are limited, a token bucket; `take` changes both atomically or neither.
 */
export interface RateLimitStore {
  /** Takes one request and `tokens` tokens for `key` at `now`, or nothing and says how long to wait. */
  take(key: string, tokens: number, now: number): Promise<TakeResult>;
  /** Gives `tokens` back to the token bucket (negative: takes more), after real usage is known. */
  adjustTokens(key: string, tokens: number, now: number): Promise<void>;
  /** Forgets what it holds (a local fallback, as a new outage begins). Optional. */
  reset?(): void;
  /** The buckets' levels for `key` at `now`, changing nothing (for the dashboard; never on a call's path). Optional. */
  peek?(key: string, now: number): Promise<BucketLevels>;
}

/** Units left in a key's buckets; `tokens` is undefined without a token limit. May be below zero after a large call. */
export interface BucketLevels {
  requests: number;
  tokens: number | undefined;
}
