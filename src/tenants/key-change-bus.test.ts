import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testRedis } from '../resilience/resilience.test-helpers.js';
import { redisKeyChangeBus } from './key-change-bus.js';

let redis: Awaited<ReturnType<typeof testRedis>>;

beforeAll(async () => {
  redis = await testRedis();
});

afterAll(async () => {
  await redis?.close();
});

describe('redisKeyChangeBus', () => {
  it('tells every replica of a change within a second, and stops when closed', async () => {
    const seen = { first: 0, second: 0 };
    const first = redisKeyChangeBus(redis.redis, redis.prefix, () => seen.first++);
    const second = redisKeyChangeBus(redis.redis, redis.prefix, () => seen.second++);
    const other = redisKeyChangeBus(redis.redis, `${redis.prefix}other:`, () => expect.fail('another prefix must not hear it'));
    try {
      // Subscriptions are set up in the background: publish until both replicas hear one.
      await vi.waitFor(
        async () => {
          await first.publish();
          expect(seen.first > 0 && seen.second > 0).toBe(true);
        },
        { timeout: 1000, interval: 50 },
      );
      second.close();
      // Messages published before the close may still arrive; count from when they have.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = seen.second;
      await first.publish();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen.second).toBe(before);
    } finally {
      first.close();
      second.close();
      other.close();
    }
  });

  it('says when it listens, so that a change announced right after is heard', async () => {
    let seen = 0;
    const listener = redisKeyChangeBus(redis.redis, redis.prefix, () => seen++);
    const announcer = redisKeyChangeBus(redis.redis, redis.prefix, () => undefined);
    try {
      expect(await listener.listening(5000)).toBe(true);
      // One announcement, sent once the listener says it listens, is enough: no retrying.
      await announcer.publish();
      await vi.waitFor(() => expect(seen).toBe(1), { timeout: 1000, interval: 10 });
    } finally {
      listener.close();
      announcer.close();
    }
  });

  it('answers false after the wait when Redis cannot be reached, and leaves no timer behind', async () => {
    const unreachable = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    unreachable.on('error', () => {});
    const bus = redisKeyChangeBus(unreachable as never, 'unreachable:', () => undefined);
    try {
      const started = performance.now();
      expect(await bus.listening(200)).toBe(false);
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      bus.close();
      unreachable.disconnect();
    }
  });
});
