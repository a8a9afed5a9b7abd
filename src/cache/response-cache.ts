import type { ChatCompletion } from '../llm/types.js';

/** How one call uses the cache: read and store, bypass entirely, or skip the read and store a fresh answer. */
export type CacheMode = 'use' | 'bypass' | 'refresh';

/** The result of {@link ResponseCache.getOrCompute}. */
export interface CacheLookup {
  completion: ChatCompletion;
  /** True when the answer came from the cache (or from another caller's identical in-flight request). */
  hit: boolean;
}

/**
 * The LLM client's view of the response cache: exact-match lookup with single flight.
 * A store failure never fails the call: it falls through to `compute`.
 */
export interface ResponseCache {
  /** Returns the cached answer for `key`, or runs `compute` once for all concurrent callers of the same key and stores its answer. */
  getOrCompute(key: string, compute: () => Promise<ChatCompletion>, mode: CacheMode): Promise<CacheLookup>;
  close(): Promise<void>;
}
