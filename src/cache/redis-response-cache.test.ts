import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { uniqueName } from '../../test/services.js';
import type { RedisClient } from '../internal/redis.js';
import type { ChatCompletion } from '../llm/types.js';
import {
  adminRedis,
  captureLogger,
  connectedRedisClient,
  counterValue,
  deleteKeys,
  freshMetrics,
  RedisProxy,
  redisTime,
  sampleCompletion,
  testRedisClient,
} from './cache.test-helpers.js';
import { createResponseCache, type ResponseCacheDeps } from './create-response-cache.js';
import type { ResponseCache } from './response-cache.js';

const config = { mode: 'redis', ttlSeconds: 60, maxEntries: 100, maxBytes: 1024 * 1024, namespace: 'tenant-a' } as const;

function countingCompute(answer: ChatCompletion = sampleCompletion(), delayMs = 0) {
  return vi.fn(async () => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return { ...answer };
  });
}

describe('Redis response cache', () => {
  let admin: Redis;
  let keyPrefix: string;
  const opened: Array<{ disconnect(): void }> = [];

  function redisCache(client: RedisClient, extra: Partial<ResponseCacheDeps> = {}) {
    const { logger, lines } = captureLogger();
    const metrics = freshMetrics();
    const cache = createResponseCache(config, { logger, metrics, redis: client, keyPrefix, ...extra }) as ResponseCache;
    return { cache, metrics, lines };
  }

  async function connected(): Promise<RedisClient> {
    const client = await connectedRedisClient();
    opened.push(client);
    return client;
  }

  beforeAll(async () => {
    admin = adminRedis();
    expect(await admin.ping()).toBe('PONG');
  });

  afterEach(async () => {
    await deleteKeys(admin, keyPrefix);
    for (const client of opened.splice(0)) client.disconnect();
  });

  afterAll(() => {
    admin.disconnect();
  });

  // A fresh prefix per test keeps tests apart on the shared server.
  const freshPrefix = () => {
    keyPrefix = `${uniqueName('gwtest')}:`;
  };

  it('stores under REDIS_KEY_PREFIX + cache: + namespace and answers the next call from Redis', async () => {
    freshPrefix();
    const { cache, metrics } = redisCache(await connected());
    const compute = countingCompute();
    await expect(cache.getOrCompute('abc', compute, 'use')).resolves.toMatchObject({ hit: false });
    expect(await admin.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}cache:tenant-a:abc`]);
    await expect(cache.getOrCompute('abc', compute, 'use')).resolves.toEqual({ completion: sampleCompletion(), hit: true });
    expect(compute).toHaveBeenCalledTimes(1);
    expect(await counterValue(metrics, 'cacheLookups', { result: 'hit' })).toBe(1);
  });

  it('makes one compute for 100 concurrent identical calls spread over two processes', async () => {
    freshPrefix();
    const first = redisCache(await connected());
    const second = redisCache(await connected());
    const compute = countingCompute(sampleCompletion(), 50);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? first : second).cache.getOrCompute('same', compute, 'use')),
    );
    expect(compute).toHaveBeenCalledTimes(1);
    expect(results.every((result) => result.completion.content === sampleCompletion().content)).toBe(true);
    expect(results.filter((result) => !result.hit)).toHaveLength(1);
    const shared =
      (await counterValue(first.metrics, 'cacheLookups', { result: 'shared' })) +
      (await counterValue(second.metrics, 'cacheLookups', { result: 'shared' }));
    expect(shared).toBe(99);
  });

  it('lets the other process compute when the holder fails, and caches nothing from the failure', async () => {
    freshPrefix();
    const first = redisCache(await connected());
    const second = redisCache(await connected());
    const failing = vi.fn(async (): Promise<ChatCompletion> => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error('provider down');
    });
    const working = countingCompute();
    const holder = first.cache.getOrCompute('k', failing, 'use');
    holder.catch(() => undefined); // asserted below; may reject while the loop still polls
    while ((await admin.exists(`${keyPrefix}cache:tenant-a:k:lock`)) === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    const waiter = second.cache.getOrCompute('k', working, 'use');
    await expect(holder).rejects.toThrow('provider down');
    await expect(waiter).resolves.toEqual({ completion: sampleCompletion(), hit: false });
    expect(working).toHaveBeenCalledTimes(1);
  });

  it('keeps answering through compute when Redis goes down mid-run, and uses it again when it is back', async () => {
    freshPrefix();
    const proxy = await RedisProxy.start();
    try {
      const client = testRedisClient(proxy.url);
      opened.push(client);
      await new Promise((resolve) => client.once('ready', resolve));
      const { cache, metrics, lines } = redisCache(client);
      const compute = countingCompute();
      await cache.getOrCompute('k', compute, 'use');
      await expect(cache.getOrCompute('k', compute, 'use')).resolves.toMatchObject({ hit: true });

      await proxy.cut();
      const started = Date.now();
      for (let index = 0; index < 5; index++) {
        await expect(cache.getOrCompute('k', compute, 'use')).resolves.toEqual({ completion: sampleCompletion(), hit: false });
      }
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => cache.getOrCompute('other', compute, 'use')));
      expect(concurrent.every((result) => result.completion.content === sampleCompletion().content)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(compute).toHaveBeenCalledTimes(1 + 5 + 1);
      expect(await counterValue(metrics, 'storeFailures', { component: 'cache' })).toBeGreaterThanOrEqual(6);
      expect(await counterValue(metrics, 'cacheLookups', { result: 'error' })).toBe(6);
      expect(lines.some((line) => line['level'] === 'warn')).toBe(true);

      await proxy.restore();
      await new Promise((resolve) => client.once('ready', resolve));
      await expect(cache.getOrCompute('k', compute, 'use')).resolves.toMatchObject({ hit: true });
    } finally {
      await proxy.close();
    }
  });

  it('answers through compute when Redis is unreachable from the start', async () => {
    freshPrefix();
    const client = testRedisClient('redis://127.0.0.1:1');
    opened.push(client);
    const { cache, metrics } = redisCache(client);
    const compute = countingCompute();
    await expect(cache.getOrCompute('k', compute, 'use')).resolves.toMatchObject({ hit: false });
    await expect(cache.getOrCompute('k', compute, 'refresh')).resolves.toMatchObject({ hit: false });
    expect(await counterValue(metrics, 'storeFailures', { component: 'cache' })).toBe(2);
  });

  it('treats a corrupt entry as a miss: logged, counted, and replaced by the fresh answer', async () => {
    freshPrefix();
    const { cache, metrics, lines } = redisCache(await connected());
    await admin.set(`${keyPrefix}cache:tenant-a:k`, '{"version":1,"completion":');
    const compute = countingCompute();
    await expect(cache.getOrCompute('k', compute, 'use')).resolves.toEqual({ completion: sampleCompletion(), hit: false });
    expect(await counterValue(metrics, 'cacheLookups', { result: 'error' })).toBe(1);
    expect(await counterValue(metrics, 'storeFailures', { component: 'cache' })).toBe(1);
    expect(lines.some((line) => JSON.stringify(line).includes('cache_entry_corrupt'))).toBe(true);
    expect(JSON.parse((await admin.get(`${keyPrefix}cache:tenant-a:k`)) as string)).toEqual({ version: 2, completion: sampleCompletion() });
  });

  it('sets the configured TTL on stored answers', async () => {
    freshPrefix();
    const { cache } = redisCache(await connected());
    // Checked against the server's clock around the call that stored it, however long this process takes meanwhile.
    const before = await redisTime(admin);
    await cache.getOrCompute('k', countingCompute(), 'use');
    const after = await redisTime(admin);
    const expiresAt = await admin.pexpiretime(`${keyPrefix}cache:tenant-a:k`);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before) + 60_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 60_000);
  });

  it("leaves the caller's connection open on close, and holds no timer of its own", async () => {
    freshPrefix();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = await connected();
      const { cache } = redisCache(client);
      await cache.getOrCompute('k', async () => sampleCompletion(), 'use');
      await cache.close();
      expect(vi.getTimerCount()).toBe(0);
      expect(client.status).toBe('ready');
    } finally {
      vi.useRealTimers();
    }
  });
});
