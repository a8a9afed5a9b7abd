import type { ChatCompletion } from '../llm/types.js';

/**
 * Where cached answers live, and the short-lived locks that let concurrent callers — in one
 * process or many — agree on who computes a missing answer. Implementations: the in-memory LRU
 * ({@link MemoryCacheStore}) and Redis ({@link RedisCacheStore}), proven by one contract suite.
 *
 * Methods reject when the store is unreachable; the response cache turns that into a miss.
 */
export interface CacheStore<V = ChatCompletion> {
  /**
   * The answer stored under `key`, or undefined when there is none or it has expired.
   * Rejects with {@link CorruptCacheEntryError} when the stored value cannot be read back.
   */
  get(key: string): Promise<V | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds, replacing any previous value. */
  set(key: string, value: V, ttlMs: number): Promise<void>;
  /** Removes the value under `key`, if any. */
  delete(key: string): Promise<void>;
  /**
   * Takes the compute lock of `key` for `ttlMs` milliseconds if nobody holds it. Returns a token
   * that proves ownership, or undefined when someone else holds the lock.
   */
  acquireLock(key: string, ttlMs: number): Promise<string | undefined>;
  /** Releases the lock of `key` if `token` still owns it; a lock that expired and was retaken is left alone. */
  releaseLock(key: string, token: string): Promise<void>;
  /** Releases what the store owns (timers, memory). A client handed in by the caller stays open. */
  close(): Promise<void>;
}

/** How a store turns its values into text and back (answers by default; embedding vectors for the embeddings cache). */
export interface CacheValueCodec<V> {
  encode(value: V): string;
  /** Throws {@link CorruptCacheEntryError} when the text is not a value of this codec. */
  decode(text: string): V;
}
