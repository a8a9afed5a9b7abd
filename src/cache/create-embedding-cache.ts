import type { CacheConfig } from '../config/app-config.js';
import { createCacheStore, type ResponseCacheDeps } from './create-response-cache.js';
import { EmbeddingCache } from './embedding-cache.js';
import { EMBEDDING_VECTOR_CODEC } from './embedding-vector-codec.js';

/**
 * The embeddings' per-input cache in the store `config.mode` names (the in-memory LRU or Redis,
 * beside the response cache, under the same namespace and TTL); undefined when `LLM_CACHE=off`.
 */
export function createEmbeddingCache(config: CacheConfig, deps: ResponseCacheDeps): EmbeddingCache | undefined {
  if (config.mode === 'off') return undefined;
  return new EmbeddingCache({
    store: createCacheStore(config, deps, EMBEDDING_VECTOR_CODEC),
    ttlMs: config.ttlSeconds * 1000,
    logger: deps.logger.child({ component: 'embedding-cache', store: config.mode }),
    metrics: deps.metrics,
  });
}
