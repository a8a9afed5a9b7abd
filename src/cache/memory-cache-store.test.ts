import { afterEach, describe, expect, it, vi } from 'vitest';
import { sampleCompletion } from './cache.test-helpers.js';
import { describeCacheStoreContract } from './cache-store-contract.test-helpers.js';
import { MemoryCacheStore } from './memory-cache-store.js';

describeCacheStoreContract('MemoryCacheStore', async () => {
  vi.useFakeTimers();
  return {
    store: new MemoryCacheStore({ maxEntries: 100, maxBytes: 1024 * 1024 }),
    advance: async (ms) => {
      await vi.advanceTimersByTimeAsync(ms);
    },
    now: async () => Date.now(),
    dispose: async () => {
      vi.useRealTimers();
    },
  };
});

describe('MemoryCacheStore bounds', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const store = new MemoryCacheStore({ maxEntries: 3, maxBytes: 1024 * 1024 });
    for (const key of ['a', 'b', 'c']) await store.set(key, sampleCompletion(key), 60_000);
    await store.get('a'); // a is now the most recently used; b is the least
    await store.set('d', sampleCompletion('d'), 60_000);
    expect(store.usage().entries).toBe(3);
    await expect(store.get('b')).resolves.toBeUndefined();
    for (const key of ['a', 'c', 'd']) expect((await store.get(key))?.content).toBe(key);
  });

  it('keeps at most maxBytes, however many entries that allows', async () => {
    const oneEntry = Buffer.byteLength('key-00') + JSON.stringify({ version: 1, completion: sampleCompletion('x'.repeat(100)) }).length;
    const store = new MemoryCacheStore({ maxEntries: 1000, maxBytes: oneEntry * 5 });
    for (let index = 0; index < 50; index++) {
      await store.set(`key-${String(index).padStart(2, '0')}`, sampleCompletion('x'.repeat(100)), 60_000);
      expect(store.usage().bytes).toBeLessThanOrEqual(oneEntry * 5);
    }
    expect(store.usage()).toEqual({ entries: 5, bytes: oneEntry * 5 });
    expect(await store.get('key-49')).toBeDefined();
    expect(await store.get('key-44')).toBeUndefined();
  });

  it('does not store an answer larger than the whole bound, and keeps the rest', async () => {
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 2048 });
    await store.set('small', sampleCompletion('small'), 60_000);
    await store.set('huge', sampleCompletion('x'.repeat(4096)), 60_000);
    await expect(store.get('huge')).resolves.toBeUndefined();
    expect((await store.get('small'))?.content).toBe('small');
  });

  it('accounts bytes exactly through replace, delete, expiry and close', async () => {
    vi.useFakeTimers();
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1024 * 1024 });
    await store.set('a', sampleCompletion('short'), 1000);
    await store.set('a', sampleCompletion('a longer answer'), 1000);
    await store.set('b', sampleCompletion('b'), 60_000);
    const expected = ['a', 'b'].reduce(
      (sum, key) =>
        sum + key.length + JSON.stringify({ version: 1, completion: sampleCompletion(key === 'a' ? 'a longer answer' : 'b') }).length,
      0,
    );
    expect(store.usage()).toEqual({ entries: 2, bytes: expected });
    vi.advanceTimersByTime(1001);
    await store.get('a');
    await store.delete('b');
    expect(store.usage()).toEqual({ entries: 0, bytes: 0 });
    await store.set('c', sampleCompletion(), 60_000);
    await store.close();
    expect(store.usage()).toEqual({ entries: 0, bytes: 0 });
  });

  it('reads time from the injected clock', async () => {
    let now = 1_000;
    const store = new MemoryCacheStore({
      maxEntries: 10,
      maxBytes: 1024 * 1024,
      clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
    });
    await store.set('k', sampleCompletion(), 500);
    now += 499;
    expect(await store.get('k')).toBeDefined();
    now += 1;
    expect(await store.get('k')).toBeUndefined();
  });
});
