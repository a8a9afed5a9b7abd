import { GRANTED, type RateLimitRules, type RateLimitStore, type TakeResult } from './rate-limit-store.js';
import { type BucketState, refill, waitFor } from './token-bucket.js';

interface KeyBuckets {
  requests: BucketState;
  tokens: BucketState;
}

/** Token buckets in this process: exact for one process, no I/O, no timers. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #rules: RateLimitRules;
  readonly #buckets = new Map<string, KeyBuckets>();

  constructor(rules: RateLimitRules) {
    this.#rules = rules;
  }

  /** Synchronous {@link RateLimitStore.take}, for callers that can use it without a promise. */
  takeNow(key: string, tokens: number, now: number): TakeResult {
    const buckets = this.#bucketsFor(key);
    const requestRule = this.#rules.requests;
    const requestLevel = refill(buckets.requests, requestRule, now);
    const requestWait = waitFor(requestLevel, 1, requestRule);
    const tokenRule = this.#rules.tokens;
    const tokenLevel = tokenRule === undefined ? 0 : refill(buckets.tokens, tokenRule, now);
    const tokenWait = tokenRule === undefined ? 0 : waitFor(tokenLevel, tokens, tokenRule);
    if (requestWait > 0 || tokenWait > 0) {
      return requestWait >= tokenWait
        ? { granted: false, waitMs: requestWait, limit: 'requests' }
        : { granted: false, waitMs: tokenWait, limit: 'tokens' };
    }
    buckets.requests.tokens = requestLevel - 1;
    buckets.requests.updatedAt = now;
    if (tokenRule !== undefined) {
      buckets.tokens.tokens = tokenLevel - tokens;
      buckets.tokens.updatedAt = now;
    }
    return GRANTED;
  }

  take(key: string, tokens: number, now: number): Promise<TakeResult> {
    return Promise.resolve(this.takeNow(key, tokens, now));
  }

  /** Synchronous {@link RateLimitStore.adjustTokens}. */
  adjustTokensNow(key: string, tokens: number, now: number): void {
    const rule = this.#rules.tokens;
    if (rule === undefined || tokens === 0) return;
    const bucket = this.#bucketsFor(key).tokens;
    const level = refill(bucket, rule, now) + tokens;
    bucket.tokens = Math.min(level, rule.capacity);
    bucket.updatedAt = now;
  }

  adjustTokens(key: string, tokens: number, now: number): Promise<void> {
    this.adjustTokensNow(key, tokens, now);
    return Promise.resolve();
  }

  #bucketsFor(key: string): KeyBuckets {
    let buckets = this.#buckets.get(key);
    if (buckets === undefined) {
      buckets = {
        requests: { tokens: this.#rules.requests.capacity, updatedAt: Number.NEGATIVE_INFINITY },
        tokens: { tokens: this.#rules.tokens?.capacity ?? 0, updatedAt: Number.NEGATIVE_INFINITY },
      };
      this.#buckets.set(key, buckets);
    }
    return buckets;
  }
}
