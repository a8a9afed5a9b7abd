import { type BucketLevels, GRANTED, type RateLimitRules, type RateLimitStore, type TakeResult } from './rate-limit-store.js';
import { type BucketState, refill, waitFor } from './token-bucket.js';

interface KeyBuckets {
  requests: BucketState;
  tokens: BucketState;
}

/** Options of a {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * New buckets start empty and fill at the limit's rate, instead of full. For a replica's local
   * share while the shared store is down: the shared buckets may already be spent, and N replicas
   * starting full would admit N bursts at once. @default false
   */
  startEmpty?: boolean;
  /** Answer the buckets' levels with every take (one object per take). @default false */
  reportLevels?: boolean;
}

/** Token buckets in this process: exact for one process, no I/O, no timers. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #rules: RateLimitRules;
  readonly #startEmpty: boolean;
  readonly #reportLevels: boolean;
  readonly #buckets = new Map<string, KeyBuckets>();

  constructor(rules: RateLimitRules, options: MemoryRateLimitStoreOptions = {}) {
    this.#rules = rules;
    this.#startEmpty = options.startEmpty ?? false;
    this.#reportLevels = options.reportLevels ?? false;
  }

  /** Forgets every bucket; the next take starts afresh (empty, with `startEmpty`). */
  reset(): void {
    this.#buckets.clear();
  }

  /** Synchronous {@link RateLimitStore.take}, for callers that can use it without a promise. */
  takeNow(key: string, tokens: number, now: number): TakeResult {
    const buckets = this.#bucketsFor(key, now);
    const requestRule = this.#rules.requests;
    const requestLevel = refill(buckets.requests, requestRule, now);
    const requestWait = waitFor(requestLevel, 1, requestRule);
    const tokenRule = this.#rules.tokens;
    const tokenLevel = tokenRule === undefined ? 0 : refill(buckets.tokens, tokenRule, now);
    const tokenWait = tokenRule === undefined ? 0 : waitFor(tokenLevel, tokens, tokenRule);
    if (requestWait > 0 || tokenWait > 0) {
      const refused: TakeResult =
        requestWait >= tokenWait
          ? { granted: false, waitMs: requestWait, limit: 'requests' }
          : { granted: false, waitMs: tokenWait, limit: 'tokens' };
      if (this.#reportLevels) refused.levels = { requests: requestLevel, tokens: tokenRule === undefined ? undefined : tokenLevel };
      return refused;
    }
    buckets.requests.tokens = requestLevel - 1;
    buckets.requests.updatedAt = now;
    if (tokenRule !== undefined) {
      buckets.tokens.tokens = tokenLevel - tokens;
      buckets.tokens.updatedAt = now;
    }
    if (this.#reportLevels) {
      const levels = { requests: buckets.requests.tokens, tokens: tokenRule === undefined ? undefined : buckets.tokens.tokens };
      return { granted: true, waitMs: 0, limit: 'requests', levels };
    }
    return GRANTED;
  }

  peek(key: string, now: number): Promise<BucketLevels> {
    const buckets = this.#buckets.get(key);
    const tokenRule = this.#rules.tokens;
    if (buckets === undefined) {
      const full = (capacity: number) => (this.#startEmpty ? 0 : capacity);
      return Promise.resolve({
        requests: full(this.#rules.requests.capacity),
        tokens: tokenRule === undefined ? undefined : full(tokenRule.capacity),
      });
    }
    return Promise.resolve({
      requests: refill(buckets.requests, this.#rules.requests, now),
      tokens: tokenRule === undefined ? undefined : refill(buckets.tokens, tokenRule, now),
    });
  }

  take(key: string, tokens: number, now: number): Promise<TakeResult> {
    return Promise.resolve(this.takeNow(key, tokens, now));
  }

  /** Synchronous {@link RateLimitStore.adjustTokens}. */
  adjustTokensNow(key: string, tokens: number, now: number): void {
    const rule = this.#rules.tokens;
    if (rule === undefined || tokens === 0) return;
    const bucket = this.#bucketsFor(key, now).tokens;
    const level = refill(bucket, rule, now) + tokens;
    bucket.tokens = Math.min(level, rule.capacity);
    bucket.updatedAt = now;
  }

  adjustTokens(key: string, tokens: number, now: number): Promise<void> {
    this.adjustTokensNow(key, tokens, now);
    return Promise.resolve();
  }

  #bucketsFor(key: string, now: number): KeyBuckets {
    let buckets = this.#buckets.get(key);
    if (buckets === undefined) {
      const since = this.#startEmpty ? now : Number.NEGATIVE_INFINITY;
      buckets = {
        requests: { tokens: this.#startEmpty ? 0 : this.#rules.requests.capacity, updatedAt: since },
        tokens: { tokens: this.#startEmpty ? 0 : (this.#rules.tokens?.capacity ?? 0), updatedAt: since },
      };
      this.#buckets.set(key, buckets);
    }
    return buckets;
  }
}
