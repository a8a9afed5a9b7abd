import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { uniqueName } from '../../test/services.js';
import type { ChatCompletion } from '../llm/types.js';
import { adminRedis, captureLogger, connectedRedisClient, deleteKeys, sampleCompletion } from './cache.test-helpers.js';
import type { CacheStore } from './cache-store.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { StoreResponseCache } from './store-response-cache.js';

/** A compute held until the test opens it, which keeps the signal it ran on. */
function heldCompute(answer: ChatCompletion = sampleCompletion()) {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const signals: Array<AbortSignal | undefined> = [];
  let started: () => void = () => {};
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const compute = vi.fn(async (signal: AbortSignal | undefined): Promise<ChatCompletion> => {
    signals.push(signal);
    started();
    await new Promise<void>((resolve, reject) => {
      gate.then(resolve, reject);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    return { ...answer };
  });
  return { compute, open, signals, running };
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

const stores: Array<{ name: string; open(): Promise<CacheStore> }> = [
  { name: 'memory', open: async () => new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 }) },
  {
    name: 'Redis',
    open: async () => {
      const client = await connectedRedisClient();
      opened.push(client);
      return new RedisCacheStore({ client, keyPrefix });
    },
  },
];

const opened: Array<{ disconnect(): void }> = [];
let keyPrefix = '';
const admin = adminRedis();

beforeAll(async () => {
  expect(await admin.ping()).toBe('PONG');
});

afterEach(async () => {
  vi.useRealTimers();
  await deleteKeys(admin, keyPrefix);
  for (const client of opened.splice(0)) client.disconnect();
});

afterAll(() => {
  admin.disconnect();
});

describe.each(stores)('the single flight over the $name store, when callers cancel', ({ open }) => {
  async function cache(): Promise<StoreResponseCache> {
    keyPrefix = `${uniqueName('gwflight')}:`;
    return new StoreResponseCache({ store: await open(), ttlMs: 60_000, logger: captureLogger().logger });
  }

  it('releases a caller that cancels at once, with its own reason, and still answers the others', async () => {
    const responses = await cache();
    const held = heldCompute();
    const leaving = new AbortController();
    const staying = new AbortController();
    const first = responses.getOrCompute('k', held.compute, 'use', leaving.signal);
    await held.running;
    const second = responses.getOrCompute('k', held.compute, 'use', staying.signal);
    const third = responses.getOrCompute('k', held.compute, 'use');
    leaving.abort(new Error('first client went away'));
    await expect(first).rejects.toThrow('first client went away');
    expect(held.signals[0]?.aborted).toBe(false);
    held.open();
    await expect(second).resolves.toEqual({ completion: sampleCompletion(), hit: true });
    await expect(third).resolves.toEqual({ completion: sampleCompletion(), hit: true });
    expect(held.compute).toHaveBeenCalledTimes(1);
    expect(abortListeners(leaving.signal)).toBe(0);
    expect(abortListeners(staying.signal)).toBe(0);
  });

  it('releases a caller that joined and then cancels at once, while the compute goes on', async () => {
    const responses = await cache();
    const held = heldCompute();
    const first = responses.getOrCompute('k', held.compute, 'use');
    await held.running;
    const joining = new AbortController();
    const joined = responses.getOrCompute('k', held.compute, 'use', joining.signal);
    joining.abort(new Error('caller gave up'));
    await expect(joined).rejects.toThrow('caller gave up');
    expect(held.signals[0]?.aborted).toBe(false);
    held.open();
    await expect(first).resolves.toEqual({ completion: sampleCompletion(), hit: false });
    expect(abortListeners(joining.signal)).toBe(0);
  });

  it('aborts the compute when the last caller leaves, with its reason, and lets the next caller start afresh', async () => {
    const responses = await cache();
    const held = heldCompute();
    const a = new AbortController();
    const b = new AbortController();
    const first = responses.getOrCompute('k', held.compute, 'use', a.signal);
    await held.running;
    const second = responses.getOrCompute('k', held.compute, 'use', b.signal);
    a.abort(new Error('a left'));
    await expect(first).rejects.toThrow('a left');
    expect(held.signals[0]?.aborted).toBe(false);
    b.abort(new Error('b left'));
    await expect(second).rejects.toThrow('b left');
    expect(held.signals[0]?.aborted).toBe(true);
    expect(held.signals[0]?.reason).toEqual(new Error('b left'));
    const next = heldCompute(sampleCompletion('fresh'));
    const later = responses.getOrCompute('k', next.compute, 'use');
    await next.running;
    next.open();
    await expect(later).resolves.toEqual({ completion: sampleCompletion('fresh'), hit: false });
    expect(abortListeners(a.signal) + abortListeners(b.signal)).toBe(0);
  });

  it('refuses a caller whose signal has already aborted, without computing', async () => {
    const responses = await cache();
    const held = heldCompute();
    await expect(responses.getOrCompute('k', held.compute, 'use', AbortSignal.abort(new Error('too late')))).rejects.toThrow('too late');
    expect(held.compute).not.toHaveBeenCalled();
  });

  it('shares a refresh flight the same way', async () => {
    const responses = await cache();
    const held = heldCompute(sampleCompletion('fresh'));
    const leaving = new AbortController();
    const first = responses.getOrCompute('k', held.compute, 'refresh', leaving.signal);
    await held.running;
    const second = responses.getOrCompute('k', held.compute, 'refresh');
    leaving.abort(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    held.open();
    await expect(second).resolves.toEqual({ completion: sampleCompletion('fresh'), hit: true });
  });

  it('hands a bypassing caller no signal of the cache: it computes on its own', async () => {
    const responses = await cache();
    const held = heldCompute();
    const pending = responses.getOrCompute('k', held.compute, 'bypass', new AbortController().signal);
    await held.running;
    held.open();
    await expect(pending).resolves.toMatchObject({ hit: false });
    expect(held.signals).toEqual([undefined]);
  });
});

describe('a caller waiting for another process’s answer', () => {
  it('stops polling the store when it leaves, and never computes', async () => {
    vi.useFakeTimers();
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 });
    await store.acquireLock('k', 60_000); // another process computes
    const acquire = vi.spyOn(store, 'acquireLock');
    const responses = new StoreResponseCache({
      store,
      ttlMs: 60_000,
      logger: captureLogger().logger,
      singleFlight: { lockTtlMs: 60_000, waitTimeoutMs: 10_000 },
    });
    const held = heldCompute();
    const caller = new AbortController();
    const pending = responses.getOrCompute('k', held.compute, 'use', caller.signal);
    await vi.advanceTimersByTimeAsync(200);
    const polls = acquire.mock.calls.length;
    expect(polls).toBeGreaterThan(1);
    caller.abort(new Error('gone'));
    await expect(pending).rejects.toThrow('gone');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(acquire.mock.calls.length).toBe(polls);
    expect(held.compute).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
