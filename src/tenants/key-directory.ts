import { type Clock, systemClock } from '../internal/clock.js';
import type { KnownModels } from '../observability/known-models.js';
import { digestKey } from './plain-key.js';
import type { TenantCaller } from './tenant-admission.js';
import type { TenantRepository } from './tenant-repository.js';

/** Settings of a {@link KeyDirectory}. */
export interface KeyDirectoryOptions {
  /** How long a lookup is trusted, in ms; a change reaches this process within it. @default 1000 */
  ttlMs?: number | undefined;
  /** Lookups kept at most; the oldest go first. @default 10000 */
  maxEntries?: number | undefined;
  clock?: Clock | undefined;
  /**
   * The models that get a metric label, breaker and rate-limit buckets of their own: the models a
   * loaded key or its team allows are admitted to it, so that they are not folded into `other`.
   */
  models?: Pick<KnownModels, 'admit'> | undefined;
}

interface Entry {
  caller: TenantCaller | undefined;
  expiresAt: number;
}

/**
 * Finds the key (and its team) a caller presents, with a short-lived cache so that the database
 * is asked at most once per key and TTL per process. Entries are held by digest, never by the
 * plain key; unknown keys are cached too (as absent), so guessing costs no database load.
 */
export class KeyDirectory {
  readonly #repository: Pick<TenantRepository, 'findKeyByPlain' | 'showTeam'>;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  readonly #models: Pick<KnownModels, 'admit'> | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<TenantCaller | undefined>>();
  /** Bumped by {@link invalidate}: a lookup begun before it is neither kept nor joined. */
  #generation = 0;

  constructor(repository: Pick<TenantRepository, 'findKeyByPlain' | 'showTeam'>, options: KeyDirectoryOptions = {}) {
    this.#repository = repository;
    this.#ttlMs = options.ttlMs ?? 1000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    this.#models = options.models;
  }

  /** The caller whose plain key is `plain`, whatever its status (admission checks it); undefined when no key matches. */
  async resolve(plain: string): Promise<TenantCaller | undefined> {
    const digest = digestKey(plain);
    const entry = this.#entries.get(digest);
    if (entry !== undefined && entry.expiresAt > this.#clock.now()) return entry.caller;
    let loading = this.#loading.get(digest);
    if (loading === undefined) {
      const loaded = this.#load(plain, digest, this.#generation).finally(() => {
        if (this.#loading.get(digest) === loaded) this.#loading.delete(digest);
      });
      loading = loaded;
      this.#loading.set(digest, loading);
    }
    return loading;
  }

  /**
   * Forgets every lookup, so the next one reads the database (after a change, or when told of one).
   * Lookups still in flight may have read the database before the change: their callers get what
   * they read, but it is not kept, and later callers start lookups of their own.
   */
  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
    this.#loading.clear();
  }

  async #load(plain: string, digest: string, generation: number): Promise<TenantCaller | undefined> {
    const key = await this.#repository.findKeyByPlain(plain);
    const team = key?.teamId == null ? undefined : await this.#repository.showTeam(key.teamId);
    const caller = key === undefined ? undefined : { key, team };
    // Once per lookup, not per request: an administrator named these models, so they are known.
    if (caller !== undefined && this.#models !== undefined) {
      this.#models.admit([...(key?.allowedModels ?? []), ...(team?.allowedModels ?? [])].filter((model) => model !== '*'));
    }
    if (generation !== this.#generation) return caller;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.delete(digest);
    this.#entries.set(digest, { caller, expiresAt: this.#clock.now() + this.#ttlMs });
    return caller;
  }
}
