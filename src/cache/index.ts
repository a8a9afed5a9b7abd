export { CACHE_ENTRY_VERSION, decodeCacheEntry, encodeCacheEntry } from './cache-entry-codec.js';
export { type CacheKeyParts, cacheKey } from './cache-key.js';
export type { CacheStore } from './cache-store.js';
export { canonicalJson } from './canonical-json.js';
export { CorruptCacheEntryError } from './corrupt-cache-entry-error.js';
export { createResponseCache, type ResponseCacheDeps } from './create-response-cache.js';
export { MemoryCacheStore, type MemoryCacheStoreOptions } from './memory-cache-store.js';
export { RedisCacheStore, type RedisCacheStoreOptions } from './redis-cache-store.js';
export { replayAsStream } from './replay-as-stream.js';
export { type CacheOption, resolveCacheMode } from './resolve-cache-mode.js';
export type { CacheLookup, CacheMode, ResponseCache, SharedCompute } from './response-cache.js';
export {
  DEFAULT_SINGLE_FLIGHT,
  type SingleFlightOptions,
  StoreResponseCache,
  type StoreResponseCacheOptions,
} from './store-response-cache.js';
export { uncachedAnswer, uncachedReason } from './uncached-answer.js';
