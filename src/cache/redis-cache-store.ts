import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../internal/redis.js';
import type { ChatCompletion } from '../llm/types.js';
import { COMPLETION_CODEC } from './cache-entry-codec.js';
import type { CacheStore, CacheValueCodec } from './cache-store.js';

/** Options for {@link RedisCacheStore}. */
export interface RedisCacheStoreOptions {
  /** A connection the caller owns and closes; the store never closes it. */
  client: RedisClient;
  /**
   * Prepended to every key, e.g. `groundwork:cache:default:` (the Redis key prefix, `cache:`
   * and the namespace). Values live at `PREFIX<key>`, compute locks at `PREFIX<key>:lock`.
   */
  keyPrefix: string;
  /** How values are stored. @default the answer codec */
  codec?: CacheValueCodec<unknown>;
}

/** Deletes the lock only if it still holds the caller's token, so an expired-and-retaken lock survives. */
const RELEASE_LOCK_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A {@link CacheStore} in Redis, shared by every process that uses the same key prefix. Values
 * are JSON with a version field, set with `PX` so Redis expires them; locks are `SET NX PX`.
 */
export class RedisCacheStore<V = ChatCompletion> implements CacheStore<V> {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #codec: CacheValueCodec<V>;

  constructor(options: RedisCacheStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix;
    this.#codec = (options.codec ?? COMPLETION_CODEC) as CacheValueCodec<V>;
  }

  async get(key: string): Promise<V | undefined> {
    const text = await this.#client.get(this.#valueKey(key));
    return text === null ? undefined : this.#codec.decode(text);
  }

  async set(key: string, value: V, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    await this.#client.set(this.#valueKey(key), this.#codec.encode(value), 'PX', Math.ceil(ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.#client.del(this.#valueKey(key));
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const reply = await this.#client.set(this.#lockKey(key), token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return reply === 'OK' ? token : undefined;
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await this.#client.eval(RELEASE_LOCK_SCRIPT, 1, this.#lockKey(key), token);
  }

  async close(): Promise<void> {
    // The client belongs to the caller; nothing else is held.
  }

  #valueKey(key: string): string {
    return this.#prefix + key;
  }

  #lockKey(key: string): string {
    return `${this.#prefix}${key}:lock`;
  }
}
