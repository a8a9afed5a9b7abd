import { randomUUID } from 'node:crypto';
import type { Clock } from '../internal/clock.js';
import { systemClock } from '../internal/clock.js';
import type { ChatCompletion } from '../llm/types.js';
import { COMPLETION_CODEC } from './cache-entry-codec.js';
import type { CacheStore, CacheValueCodec } from './cache-store.js';

/** Options for {@link MemoryCacheStore}. */
export interface MemoryCacheStoreOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries: number;
  /** Most bytes kept (UTF-8 size of keys and stored values); an answer larger than this is not stored. */
  maxBytes: number;
  /** @default systemClock */
  clock?: Clock;
  /** How values are stored. @default the answer codec */
  codec?: CacheValueCodec<unknown>;
}

interface Entry {
  text: string;
  bytes: number;
  expiresAt: number;
}

/** Above this many locks, expired ones are swept on every acquire. */
const LOCK_SWEEP_THRESHOLD = 1024;

/**
 * A {@link CacheStore} in this process: an LRU bounded by entries and by bytes, with a TTL per
 * entry read from the injected clock. Values are kept serialised, so a caller that changes a
 * returned answer never changes the cache, and the byte bound is exact.
 */
export class MemoryCacheStore<V = ChatCompletion> implements CacheStore<V> {
  readonly #entries = new Map<string, Entry>();
  readonly #locks = new Map<string, { token: string; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #clock: Clock;
  readonly #codec: CacheValueCodec<V>;
  #bytes = 0;

  constructor(options: MemoryCacheStoreOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
    this.#clock = options.clock ?? systemClock;
    this.#codec = (options.codec ?? COMPLETION_CODEC) as CacheValueCodec<V>;
  }

  /** How much the store holds now. */
  usage(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  async get(key: string): Promise<V | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#remove(key, entry);
      return undefined;
    }
    // Re-inserting moves the entry to the most recently used end of the map.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return this.#codec.decode(entry.text);
  }

  async set(key: string, value: V, ttlMs: number): Promise<void> {
    const text = this.#codec.encode(value);
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(text);
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#remove(key, previous);
    if (bytes > this.#maxBytes || ttlMs <= 0) return;
    this.#entries.set(key, { text, bytes, expiresAt: this.#clock.now() + ttlMs });
    this.#bytes += bytes;
    this.#evict();
  }

  async delete(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#remove(key, entry);
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const now = this.#clock.now();
    if (this.#locks.size > LOCK_SWEEP_THRESHOLD) {
      for (const [lockKey, lock] of this.#locks) if (lock.expiresAt <= now) this.#locks.delete(lockKey);
    }
    const held = this.#locks.get(key);
    if (held !== undefined && held.expiresAt > now) return undefined;
    const token = randomUUID();
    this.#locks.set(key, { token, expiresAt: now + ttlMs });
    return token;
  }

  async releaseLock(key: string, token: string): Promise<void> {
    if (this.#locks.get(key)?.token === token) this.#locks.delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#locks.clear();
    this.#bytes = 0;
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** Drops least recently used entries until both bounds hold; O(1) per dropped entry. */
  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#remove(key, entry);
    }
  }
}
