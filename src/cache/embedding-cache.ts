import { createHash } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { scrubSecrets } from '../observability/redact.js';
import type { CacheStore } from './cache-store.js';

/**
 * The per-input cache of embeddings: one vector per (model, dimensions, input), so embedding a
 * corpus twice sends nothing the second time, and a corpus that grows sends only its new texts.
 * A store failure (Redis down) never fails the call: reads fall through as misses, writes are
 * skipped; both are logged and counted (`groundwork_store_failures_total{component="cache"}`).
 */
export class EmbeddingCache {
  readonly #store: CacheStore<Float32Array>;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #metrics: GroundworkMetrics | undefined;

  constructor(options: { store: CacheStore<Float32Array>; ttlMs: number; logger: Logger; metrics?: GroundworkMetrics | undefined }) {
    this.#store = options.store;
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  /** The cached vector of each key, undefined for a miss (or for every key when the store fails). */
  async getMany(keys: readonly string[]): Promise<Array<Float32Array | undefined>> {
    try {
      const found = await Promise.all(keys.map((key) => this.#store.get(key)));
      this.#count('hit', found.filter((vector) => vector !== undefined).length);
      this.#count('miss', found.filter((vector) => vector === undefined).length);
      return found;
    } catch (error) {
      this.#failed('read', error);
      this.#count('error', keys.length);
      return keys.map(() => undefined);
    }
  }

  /** Stores each vector under its key; a store failure is logged, never thrown. */
  async setMany(entries: ReadonlyArray<readonly [string, Float32Array]>): Promise<void> {
    try {
      await Promise.all(entries.map(([key, vector]) => this.#store.set(key, vector, this.#ttlMs)));
    } catch (error) {
      this.#failed('write', error);
    }
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  #count(result: string, count: number): void {
    if (count > 0) this.#metrics?.cacheLookups.inc({ result }, count);
  }

  #failed(action: string, error: unknown): void {
    this.#metrics?.storeFailures.inc({ component: 'cache' });
    this.#logger.warn({ action }, `embedding cache ${action} failed; going on without it: ${scrubSecrets((error as Error).message)}`);
  }
}

/**
 * The key of one input's vector: a digest of the model, the dimensions asked for and the input,
 * and of the namespace when the call names one other than the instance's (whose keys stay as they were).
 */
export function embeddingCacheKey(
  model: string,
  dimensions: number | undefined,
  input: string | readonly number[],
  namespace?: string,
): string {
  const hash = createHash('sha256');
  if (namespace !== undefined) hash.update('n').update(namespace).update('\u0000');
  hash
    .update(model)
    .update('\u0000')
    .update(String(dimensions ?? ''))
    .update('\u0000');
  hash.update(typeof input === 'string' ? `s${input}` : `t${input.join(',')}`);
  return `embedding:${hash.digest('base64url')}`;
}
