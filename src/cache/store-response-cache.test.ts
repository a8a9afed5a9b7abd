import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatCompletion } from '../llm/types.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { captureLogger, counterValue, freshMetrics, sampleCompletion } from './cache.test-helpers.js';
import type { CacheStore } from './cache-store.js';
import { CorruptCacheEntryError } from './corrupt-cache-entry-error.js';
import { createResponseCache } from './create-response-cache.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import type { ResponseCache } from './response-cache.js';
import { type SingleFlightOptions, StoreResponseCache } from './store-response-cache.js';
import { uncachedAnswer } from './uncached-answer.js';

const config = { mode: 'memory', ttlSeconds: 60, maxEntries: 100, maxBytes: 1024 * 1024, namespace: 'default' } as const;

function setup(options: { store?: CacheStore; singleFlight?: Partial<SingleFlightOptions> } = {}) {
  const { logger, lines } = captureLogger();
  const metrics = freshMetrics();
  const store = options.store ?? new MemoryCacheStore({ maxEntries: 100, maxBytes: 1024 * 1024 });
  const cache = new StoreResponseCache({ store, ttlMs: 60_000, logger, metrics, singleFlight: options.singleFlight });
  return { cache, store, lines, metrics };
}

/** A compute that counts its calls and answers after `delayMs` (on whatever timers are current). */
function countingCompute(answer: ChatCompletion = sampleCompletion(), delayMs = 0) {
  const compute = vi.fn(async () => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return { ...answer };
  });
  return compute;
}

async function lookups(metrics: GroundworkMetrics) {
  return {
    hit: await counterValue(metrics, 'cacheLookups', { result: 'hit' }),
    miss: await counterValue(metrics, 'cacheLookups', { result: 'miss' }),
    shared: await counterValue(metrics, 'cacheLookups', { result: 'shared' }),
    error: await counterValue(metrics, 'cacheLookups', { result: 'error' }),
    storeFailures: await counterValue(metrics, 'storeFailures', { component: 'cache' }),
  };
}

/** A store whose every operation fails, as Redis does when it is down. */
function brokenStore(): CacheStore {
  const down = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
  return { get: down, set: down, delete: down, acquireLock: down, releaseLock: down, close: async () => {} };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('StoreResponseCache modes', () => {
  it('use: computes on a miss, stores, and answers the next call from the store', async () => {
    const { cache, metrics } = setup();
    const compute = countingCompute();
    expect(await cache.getOrCompute('k', compute, 'use')).toEqual({ completion: sampleCompletion(), hit: false });
    expect(await cache.getOrCompute('k', compute, 'use')).toEqual({ completion: sampleCompletion(), hit: true });
    expect(compute).toHaveBeenCalledTimes(1);
    expect(await lookups(metrics)).toMatchObject({ hit: 1, miss: 1, shared: 0, error: 0 });
  });

  it('returns the cached answer as stored (usage kept, nothing marked)', async () => {
    const { cache } = setup();
    await cache.getOrCompute('k', countingCompute(), 'use');
    const { completion } = await cache.getOrCompute('k', countingCompute(sampleCompletion('other')), 'use');
    expect(completion).toEqual(sampleCompletion());
  });

  it('refresh: skips the read, computes and stores the fresh answer', async () => {
    const { cache, store } = setup();
    await cache.getOrCompute('k', countingCompute(sampleCompletion('old')), 'use');
    const fresh = countingCompute(sampleCompletion('new'));
    expect(await cache.getOrCompute('k', fresh, 'refresh')).toEqual({ completion: sampleCompletion('new'), hit: false });
    expect(fresh).toHaveBeenCalledTimes(1);
    expect((await store.get('k'))?.content).toBe('new');
  });

  it('hands an answer marked uncached to its caller without storing it, and says so at debug', async () => {
    const { cache, store, lines } = setup();
    const uncached = vi.fn(async () => uncachedAnswer(sampleCompletion('from a fallback'), 'answered by a fallback'));
    expect(await cache.getOrCompute('k', uncached, 'use')).toEqual({ completion: sampleCompletion('from a fallback'), hit: false });
    expect(await cache.getOrCompute('k', uncached, 'refresh')).toEqual({ completion: sampleCompletion('from a fallback'), hit: false });
    expect(await store.get('k')).toBeUndefined();
    expect(lines.filter((line) => line['reason'] === 'answered by a fallback')).toHaveLength(2);
    expect(await cache.getOrCompute('k', countingCompute(), 'use')).toEqual({ completion: sampleCompletion(), hit: false });
    expect(uncached).toHaveBeenCalledTimes(2);
  });

  it('bypass: computes without reading or storing', async () => {
    const { cache, store, metrics } = setup();
    await store.set('k', sampleCompletion('cached'), 60_000);
    const compute = countingCompute(sampleCompletion('computed'));
    expect(await cache.getOrCompute('k', compute, 'bypass')).toEqual({ completion: sampleCompletion('computed'), hit: false });
    expect((await store.get('k'))?.content).toBe('cached');
    expect(await lookups(metrics)).toMatchObject({ hit: 0, miss: 0 });
  });

  it('does not cache a failed compute, and the next call computes again', async () => {
    const { cache, store } = setup();
    const failing = vi.fn(async (): Promise<ChatCompletion> => {
      throw new Error('provider down');
    });
    await expect(cache.getOrCompute('k', failing, 'use')).rejects.toThrow('provider down');
    await expect(store.get('k')).resolves.toBeUndefined();
    await expect(store.acquireLock('k', 1000)).resolves.toBeTypeOf('string'); // the lock was released
    await store.releaseLock('k', 'whatever');
  });

  it('lets entries expire after the TTL', async () => {
    vi.useFakeTimers();
    const { cache } = setup();
    const compute = countingCompute();
    await cache.getOrCompute('k', compute, 'use');
    await vi.advanceTimersByTimeAsync(59_000);
    expect((await cache.getOrCompute('k', compute, 'use')).hit).toBe(true);
    await vi.advanceTimersByTimeAsync(1_001);
    expect((await cache.getOrCompute('k', compute, 'use')).hit).toBe(false);
    expect(compute).toHaveBeenCalledTimes(2);
  });
});

describe('StoreResponseCache single flight in one process', () => {
  it('makes one compute for 100 concurrent identical calls and gives every caller its answer', async () => {
    const { cache, metrics } = setup();
    const compute = countingCompute(sampleCompletion(), 20);
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrCompute('k', compute, 'use')));
    expect(compute).toHaveBeenCalledTimes(1);
    expect(results.every((result) => result.completion.content === sampleCompletion().content)).toBe(true);
    expect(results.filter((result) => !result.hit)).toHaveLength(1);
    expect(await lookups(metrics)).toMatchObject({ miss: 1, shared: 99 });
  });

  it('gives every waiter the error of a failed compute, and caches nothing', async () => {
    const { cache, store } = setup();
    const failure = new Error('provider down');
    const compute = vi.fn(async (): Promise<ChatCompletion> => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw failure;
    });
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => cache.getOrCompute('k', compute, 'use')));
    expect(compute).toHaveBeenCalledTimes(1);
    expect(settled.every((result) => result.status === 'rejected' && result.reason === failure)).toBe(true);
    await expect(store.get('k')).resolves.toBeUndefined();
    await expect(cache.getOrCompute('k', countingCompute(), 'use')).resolves.toMatchObject({ hit: false });
  });

  it('keeps different keys apart', async () => {
    const { cache } = setup();
    const compute = countingCompute(sampleCompletion(), 5);
    await Promise.all([cache.getOrCompute('a', compute, 'use'), cache.getOrCompute('b', compute, 'use')]);
    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('lets a refresh join only a refresh, never an ordinary lookup that may end as a stored answer', async () => {
    const { cache } = setup();
    const slow = countingCompute(sampleCompletion('looked up'), 20);
    const fresh = countingCompute(sampleCompletion('fresh'), 5);
    const [used, refreshed, refreshedToo, usedToo] = await Promise.all([
      cache.getOrCompute('k', slow, 'use'),
      cache.getOrCompute('k', fresh, 'refresh'),
      cache.getOrCompute('k', fresh, 'refresh'),
      cache.getOrCompute('k', slow, 'use'),
    ]);
    expect(fresh).toHaveBeenCalledTimes(1);
    expect(refreshed.completion.content).toBe('fresh');
    expect(refreshedToo).toEqual({ completion: sampleCompletion('fresh'), hit: true });
    expect(used.completion.content).toBe('looked up');
    expect(usedToo.completion.content).toBe('fresh'); // joined the flight running when it arrived
  });
});

describe('StoreResponseCache single flight across instances sharing a store', () => {
  it('lets a waiter take over when the lock holder dies, once the lock expires', async () => {
    vi.useFakeTimers();
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 });
    await store.acquireLock('k', 1_000); // a holder that never answers nor releases
    const { cache, metrics } = setup({ store, singleFlight: { lockTtlMs: 1_000, waitTimeoutMs: 10_000 } });
    const compute = countingCompute();
    const pending = cache.getOrCompute('k', compute, 'use');
    await vi.advanceTimersByTimeAsync(900);
    expect(compute).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    await expect(pending).resolves.toEqual({ completion: sampleCompletion(), hit: false });
    expect(compute).toHaveBeenCalledTimes(1);
    expect(await store.get('k')).toEqual(sampleCompletion());
    expect(await lookups(metrics)).toMatchObject({ miss: 1 });
  });

  it('computes itself once the wait exceeds its bound', async () => {
    vi.useFakeTimers();
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 });
    await store.acquireLock('k', 60_000);
    const { cache, lines } = setup({ store, singleFlight: { lockTtlMs: 60_000, waitTimeoutMs: 2_000 } });
    const compute = countingCompute();
    const pending = cache.getOrCompute('k', compute, 'use');
    await vi.advanceTimersByTimeAsync(1_900);
    expect(compute).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    await expect(pending).resolves.toMatchObject({ hit: false });
    expect(lines.some((line) => String(line['msg']).includes('Waited too long'))).toBe(true);
  });

  it("answers a waiter with the holder's stored answer, as shared", async () => {
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 });
    const first = setup({ store });
    const second = setup({ store });
    const compute = countingCompute(sampleCompletion(), 30);
    const [a, b] = await Promise.all([first.cache.getOrCompute('k', compute, 'use'), second.cache.getOrCompute('k', compute, 'use')]);
    expect(compute).toHaveBeenCalledTimes(1);
    expect([a.hit, b.hit].sort()).toEqual([false, true]);
    expect((await lookups(second.metrics)).shared + (await lookups(first.metrics)).shared).toBe(1);
  });
});

describe('StoreResponseCache store failures', () => {
  it('answers through compute when every store operation fails, logged and counted', async () => {
    const { cache, metrics, lines } = setup({ store: brokenStore() });
    const compute = countingCompute();
    for (let index = 0; index < 3; index++) {
      await expect(cache.getOrCompute('k', compute, 'use')).resolves.toEqual({ completion: sampleCompletion(), hit: false });
    }
    await expect(cache.getOrCompute('k', compute, 'refresh')).resolves.toMatchObject({ hit: false });
    expect(compute).toHaveBeenCalledTimes(4);
    const counted = await lookups(metrics);
    expect(counted).toMatchObject({ error: 3, hit: 0, miss: 0 });
    expect(counted.storeFailures).toBe(4);
    // One warning per interval, every failure at debug after it, so an outage cannot flood the log.
    expect(lines.filter((line) => line['level'] === 'warn')).toHaveLength(1);
    expect(lines.filter((line) => line['level'] === 'debug')).toHaveLength(3);
    expect(JSON.stringify(lines)).toContain('ECONNREFUSED');
  });

  it('treats a corrupt entry as a miss: logged, counted, deleted and replaced', async () => {
    const inner = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 });
    let corrupt = true;
    const store: CacheStore = {
      get: async (key) => {
        if (corrupt) throw new CorruptCacheEntryError('not JSON');
        return inner.get(key);
      },
      set: (key, completion, ttlMs) => inner.set(key, completion, ttlMs),
      delete: vi.fn(async (key: string) => {
        corrupt = false;
        await inner.delete(key);
      }),
      acquireLock: (key, ttlMs) => inner.acquireLock(key, ttlMs),
      releaseLock: (key, token) => inner.releaseLock(key, token),
      close: () => inner.close(),
    };
    const { cache, metrics, lines } = setup({ store });
    const compute = countingCompute();
    await expect(cache.getOrCompute('k', compute, 'use')).resolves.toEqual({ completion: sampleCompletion(), hit: false });
    expect(store.delete).toHaveBeenCalledWith('k');
    expect(await lookups(metrics)).toMatchObject({ error: 1, storeFailures: 1 });
    expect(lines.some((line) => line['level'] === 'warn' && JSON.stringify(line).includes('cache_entry_corrupt'))).toBe(true);
    await expect(cache.getOrCompute('k', compute, 'use')).resolves.toMatchObject({ hit: true });
  });
});

describe('StoreResponseCache close', () => {
  it("stops a waiter's polling (it computes itself) and leaves no timer behind; idempotent", async () => {
    vi.useFakeTimers();
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 });
    await store.acquireLock('k', 60_000);
    const { cache } = setup({ store });
    const compute = countingCompute();
    const pending = cache.getOrCompute('k', compute, 'use');
    await vi.advanceTimersByTimeAsync(50);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await cache.close();
    await cache.close();
    await expect(pending).resolves.toMatchObject({ hit: false });
    expect(vi.getTimerCount()).toBe(0);
    expect(store.usage()).toEqual({ entries: 0, bytes: 0 });
  });

  it('steps aside once closed: calls still get their answer', async () => {
    const { cache } = setup();
    await cache.close();
    const compute = countingCompute();
    await expect(cache.getOrCompute('k', compute, 'use')).resolves.toMatchObject({ hit: false });
    await expect(cache.getOrCompute('k', compute, 'use')).resolves.toMatchObject({ hit: false });
  });
});

describe('createResponseCache', () => {
  it('creates nothing when the mode is off', () => {
    expect(createResponseCache({ ...config, mode: 'off' }, { logger: captureLogger().logger })).toBeUndefined();
  });

  it('creates a memory cache bounded by the configuration', async () => {
    const cache = createResponseCache({ ...config, maxEntries: 2 }, { logger: captureLogger().logger }) as ResponseCache;
    for (const key of ['a', 'b', 'c']) await cache.getOrCompute(key, countingCompute(), 'use');
    const compute = countingCompute();
    await cache.getOrCompute('a', compute, 'use');
    expect(compute).toHaveBeenCalledTimes(1); // 'a' was evicted
    await cache.close();
  });

  it('refuses the redis mode without a Redis connection, saying what to do', () => {
    expect(() => createResponseCache({ ...config, mode: 'redis' }, { logger: captureLogger().logger })).toThrow(/REDIS_URL/);
  });

  it('adds no listener to the cache’s own closing signal while a flight computes', async () => {
    const { cache } = setup();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      // 20 misses on different keys at once, each computing for a while: a listener each on one shared signal would pass the warning's 10.
      const compute = countingCompute(sampleCompletion(), 20);
      await Promise.all(Array.from({ length: 20 }, (_, index) => cache.getOrCompute(`key-${index}`, compute, 'use')));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
