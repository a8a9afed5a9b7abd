import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/services.js';
import type { RedisClient } from '../internal/redis.js';
import { adminRedis, connectedRedisClient, deleteKeys, redisTime, sampleCompletion, testRedisClient } from './cache.test-helpers.js';
import { describeCacheStoreContract } from './cache-store-contract.test-helpers.js';
import { CorruptCacheEntryError } from './corrupt-cache-entry-error.js';
import { RedisCacheStore } from './redis-cache-store.js';

describeCacheStoreContract('RedisCacheStore', async () => {
  const client = await connectedRedisClient();
  const prefix = `${uniqueName('gwtest')}:cache:`;
  return {
    store: new RedisCacheStore({ client, keyPrefix: prefix }),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => redisTime(client),
    dispose: async () => {
      await deleteKeys(client, prefix);
      client.disconnect();
    },
  };
});

describe('RedisCacheStore layout', () => {
  let admin: Redis;
  let client: RedisClient;
  let prefix: string;
  let store: RedisCacheStore;

  beforeAll(async () => {
    admin = adminRedis();
    client = await connectedRedisClient();
    prefix = `${uniqueName('gwtest')}:cache:tenant-a:`;
    store = new RedisCacheStore({ client, keyPrefix: prefix });
    // Fails the suite (rather than skipping it) when the test Redis is not reachable.
    expect(await admin.ping()).toBe('PONG');
  });

  afterAll(async () => {
    await deleteKeys(admin, prefix);
    client.disconnect();
    admin.disconnect();
  });

  it('writes every key under its prefix, values with a version field and a Redis TTL', async () => {
    // Each expiry is checked against the server's clock around the write that set it, however long this process takes meanwhile.
    const beforeSet = await redisTime(admin);
    await store.set('abc', sampleCompletion(), 60_000);
    const afterSet = await redisTime(admin);
    const token = await store.acquireLock('abc', 30_000);
    const afterLock = await redisTime(admin);
    expect((await admin.keys(`${prefix}*`)).sort()).toEqual([`${prefix}abc`, `${prefix}abc:lock`]);
    const stored = JSON.parse((await admin.get(`${prefix}abc`)) as string) as { version: number; completion: unknown };
    expect(stored).toEqual({ version: 2, completion: sampleCompletion() });
    const expiresAt = await admin.pexpiretime(`${prefix}abc`);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(beforeSet) + 60_000);
    expect(expiresAt).toBeLessThanOrEqual(afterSet + 60_000);
    const lockExpiresAt = await admin.pexpiretime(`${prefix}abc:lock`);
    expect(lockExpiresAt).toBeGreaterThanOrEqual(Math.floor(afterSet) + 30_000);
    expect(lockExpiresAt).toBeLessThanOrEqual(afterLock + 30_000);
    await store.releaseLock('abc', token as string);
    expect(await admin.exists(`${prefix}abc:lock`)).toBe(0);
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['another version', JSON.stringify({ version: 99, completion: sampleCompletion() })],
    ['a wrong shape', JSON.stringify({ version: 2, completion: { content: 42 } })],
    ['without choices', JSON.stringify({ version: 2, completion: { ...sampleCompletion(), choices: [] } })],
    ['an unknown provider', JSON.stringify({ version: 2, completion: { ...sampleCompletion(), provider: 'acme' } })],
    [
      'negative usage',
      JSON.stringify({
        version: 2,
        completion: { ...sampleCompletion(), usage: { promptTokens: -1, completionTokens: 0, totalTokens: 0 } },
      }),
    ],
  ])('reports a stored value that is %s as a CorruptCacheEntryError', async (_label, raw) => {
    await admin.set(`${prefix}corrupt`, raw);
    const failure = await store.get('corrupt').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CorruptCacheEntryError);
    expect((failure as Error).message).not.toContain(raw);
  });

  it('rejects when Redis cannot be reached, instead of hanging', async () => {
    const down = testRedisClient('redis://127.0.0.1:1');
    const unreachable = new RedisCacheStore({ client: down, keyPrefix: prefix });
    const started = Date.now();
    await expect(unreachable.get('k')).rejects.toThrow();
    await expect(unreachable.set('k', sampleCompletion(), 1000)).rejects.toThrow();
    await expect(unreachable.acquireLock('k', 1000)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);
    down.disconnect();
  });
});
