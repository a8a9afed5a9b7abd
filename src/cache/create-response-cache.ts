import type { CacheConfig } from '../config/app-config.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import type { Clock } from '../internal/clock.js';
import type { RedisClient } from '../internal/redis.js';
import type { ChatCompletion } from '../llm/types.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { CacheStore, CacheValueCodec } from './cache-store.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { RedisCacheStore } from './redis-cache-store.js';
import type { ResponseCache } from './response-cache.js';
import { type SingleFlightOptions, StoreResponseCache } from './store-response-cache.js';

/** What {@link createResponseCache} needs besides its configuration. */
export interface ResponseCacheDeps {
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** Required when the mode is `redis`. The caller owns it: closing the cache leaves it open. */
  redis?: RedisClient | undefined;
  /** `REDIS_KEY_PREFIX`; cache keys live under `PREFIX` + `cache:` + namespace + `:`. @default 'groundwork:' */
  keyPrefix?: string | undefined;
  /** Cross-process single-flight timing. */
  singleFlight?: Partial<SingleFlightOptions> | undefined;
}

/**
 * Creates the response cache `config.mode` asks for: undefined when it is `off`, an in-memory
 * LRU for `memory`, Redis for `redis` (through `deps.redis`).
 */
export function createResponseCache(config: CacheConfig, deps: ResponseCacheDeps): ResponseCache | undefined {
  if (config.mode === 'off') return undefined;
  const store = createStore(config, deps);
  return new StoreResponseCache({
    store,
    ttlMs: config.ttlSeconds * 1000,
    logger: deps.logger.child({ component: 'cache', store: config.mode }),
    metrics: deps.metrics,
    clock: deps.clock,
    singleFlight: deps.singleFlight,
  });
}

function createStore(config: CacheConfig, deps: ResponseCacheDeps): CacheStore {
  return createCacheStore<ChatCompletion>(config, deps, undefined);
}

/** The store `config.mode` names, holding values in `codec` (answers by default). @internal */
export function createCacheStore<V>(config: CacheConfig, deps: ResponseCacheDeps, codec: CacheValueCodec<V> | undefined): CacheStore<V> {
  const withCodec = codec === undefined ? {} : { codec };
  if (config.mode === 'memory') {
    return new MemoryCacheStore<V>({
      maxEntries: config.maxEntries,
      maxBytes: config.maxBytes,
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      ...withCodec,
    });
  }
  if (deps.redis === undefined) {
    throw new GroundworkError(
      'cache_redis_missing',
      'LLM_CACHE is redis but no Redis connection was given; set REDIS_URL or choose LLM_CACHE=memory.',
    );
  }
  return new RedisCacheStore<V>({
    client: deps.redis,
    keyPrefix: `${deps.keyPrefix ?? 'groundwork:'}cache:${config.namespace}:`,
    ...withCodec,
  });
}
