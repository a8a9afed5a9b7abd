import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RedisClient } from '../internal/redis.js';
import { testRedis } from '../resilience/resilience.test-helpers.js';
import { keyChangeChannel, redisKeyChangeBus } from './key-change-bus.js';

let redis: Awaited<ReturnType<typeof testRedis>>;

beforeAll(async () => {
  redis = await testRedis();
});

afterAll(async () => {
  await redis?.close();
});

describe('redisKeyChangeBus', () => {
  it('tells every replica of a change, and stops when closed', async () => {
    const seen = { first: 0, second: 0 };
    const channel = keyChangeChannel(redis.prefix);
    const first = redisKeyChangeBus(redis.redis, redis.prefix, () => seen.first++);
    const second = redisKeyChangeBus(redis.redis, redis.prefix, () => seen.second++);
    const other = redisKeyChangeBus(redis.redis, `${redis.prefix}other:`, () => expect.fail('another prefix must not hear it'));
    try {
      // Subscriptions are set up in the background: announce once every replica listens.
      expect(await Promise.all([first, second, other].map((bus) => bus.listening(5000)))).toEqual([true, true, true]);
      await first.publish();
      await vi.waitFor(() => expect(seen).toEqual({ first: 1, second: 1 }), { timeout: 5000 });
      second.close();
      // Once Redis has dropped the closed replica's subscription, the next announcement reaches only the one still listening.
      await vi.waitFor(async () => expect(await redis.redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]), {
        timeout: 5000,
      });
      await first.publish();
      await vi.waitFor(() => expect(seen.first).toBe(2), { timeout: 5000 });
      expect(seen.second).toBe(1);
    } finally {
      first.close();
      second.close();
      other.close();
    }
  });

  it('calls nothing for a message that arrives after it was closed', () => {
    // A stand-in connection: a real one may or may not deliver a message already on its way.
    const subscriber = Object.assign(new EventEmitter(), { subscribe: async () => 1, disconnect: () => {} });
    const connection = { duplicate: () => subscriber } as unknown as RedisClient;
    let changes = 0;
    const bus = redisKeyChangeBus(connection, 'gw:', () => changes++);
    subscriber.emit('message', keyChangeChannel('gw:'), '1');
    bus.close();
    subscriber.emit('message', keyChangeChannel('gw:'), '1');
    expect(changes).toBe(1);
  });

  it('says when it listens, so that a change announced right after is heard', async () => {
    let seen = 0;
    const listener = redisKeyChangeBus(redis.redis, redis.prefix, () => seen++);
    const announcer = redisKeyChangeBus(redis.redis, redis.prefix, () => undefined);
    try {
      expect(await listener.listening(5000)).toBe(true);
      // One announcement, sent once the listener says it listens, is enough: no retrying.
      await announcer.publish();
      await vi.waitFor(() => expect(seen).toBe(1), { timeout: 5000, interval: 10 });
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
