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
 * Computes a missing answer. `signal` is the cancellation of a compute shared by every concurrent
 * caller of the key, which the compute must run on instead of its caller's own: it aborts only when
 * all of them have left. Undefined when the compute serves its caller alone (`bypass`, or a closed
 * cache): it then runs on its caller's cancellation. An answer that does not answer what the key
 * names (a fallback's) comes back marked by `uncachedAnswer`: the callers get it, the store does not
 * (`uncachedReason` tells it apart).
 */
export type SharedCompute = (signal: AbortSignal | undefined) => Promise<ChatCompletion>;

/**
 * The LLM client's view of the response cache: exact-match lookup with single flight.
 * A store failure never fails the call: it falls through to `compute`.
 */
export interface ResponseCache {
  /**
   * Returns the cached answer for `key`, or runs `compute` once for all concurrent callers of the
   * same key and stores its answer (unless `uncachedReason` names why not). The caller waits under
   * its own `signal`: when it aborts, the caller is released at once with its reason while the
   * others go on waiting; the shared compute is aborted only when every caller waiting for it has left.
   */
  getOrCompute(key: string, compute: SharedCompute, mode: CacheMode, signal?: AbortSignal): Promise<CacheLookup>;
  close(): Promise<void>;
}
