import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleCompletion } from './cache.test-helpers.js';
import type { CacheStore } from './cache-store.js';

/** One store under test, and how to let time pass for it. */
export interface CacheStoreHarness {
  store: CacheStore;
  /** Lets `ms` milliseconds pass: fake timers for memory, a real wait for Redis. */
  advance(ms: number): Promise<void>;
  /**
   * The time, in ms, on the clock the store expires entries by: the fake clock for memory, the
   * server's for Redis, which goes on while this process is held up on a loaded machine.
   */
  now(): Promise<number>;
  /** Releases what the harness opened. */
  dispose(): Promise<void>;
}

/**
 * The behaviour every {@link CacheStore} must show. Each implementation's test file calls this
 * with a factory for a fresh, empty store.
 */
export function describeCacheStoreContract(name: string, createHarness: () => Promise<CacheStoreHarness>): void {
  describe(`${name} satisfies the CacheStore contract`, () => {
    let harness: CacheStoreHarness;
    let store: CacheStore;

    beforeEach(async () => {
      harness = await createHarness();
      store = harness.store;
    });

    afterEach(async () => {
      await harness.dispose();
    });

    it('answers undefined for a key never stored', async () => {
      await expect(store.get('absent')).resolves.toBeUndefined();
    });

    it('gives back exactly what was stored, optional fields and all', async () => {
      const completion = sampleCompletion('Grüße — 你好 👋 "quoted" \n newline');
      await store.set('k', completion, 60_000);
      await expect(store.get('k')).resolves.toEqual(completion);
    });

    it('keeps optional fields absent when they were absent', async () => {
      const { requestId: _requestId, ...rest } = sampleCompletion();
      const completion = { ...rest, usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } };
      await store.set('k', completion, 60_000);
      const read = await store.get('k');
      expect(read).toEqual(completion);
      expect(read !== undefined && 'requestId' in read).toBe(false);
    });

    it('replaces a value set again under the same key', async () => {
      await store.set('k', sampleCompletion('first'), 60_000);
      await store.set('k', sampleCompletion('second'), 60_000);
      expect((await store.get('k'))?.content).toBe('second');
    });

    it('keeps keys apart', async () => {
      await store.set('a', sampleCompletion('A'), 60_000);
      await store.set('b', sampleCompletion('B'), 60_000);
      expect((await store.get('a'))?.content).toBe('A');
      expect((await store.get('b'))?.content).toBe('B');
    });

    it('deletes a value, and deleting a missing key is not an error', async () => {
      await store.set('k', sampleCompletion(), 60_000);
      await store.delete('k');
      await expect(store.get('k')).resolves.toBeUndefined();
      await expect(store.delete('never-there')).resolves.toBeUndefined();
    });

    it('expires a value after its TTL, not before', async () => {
      const setAt = await harness.now();
      await store.set('k', sampleCompletion(), 200);
      await harness.advance(50);
      const early = await store.get('k');
      // Gone only once its TTL has passed on the store's clock, however long this process was held up meanwhile.
      expect(early !== undefined || (await harness.now()) - setAt >= 200, 'expired before its TTL').toBe(true);
      await harness.advance(250);
      await expect(store.get('k')).resolves.toBeUndefined();
    });

    it('returns a copy: changing an answer read back does not change the store', async () => {
      await store.set('k', sampleCompletion('original'), 60_000);
      const read = await store.get('k');
      if (read !== undefined) read.content = 'changed';
      expect((await store.get('k'))?.content).toBe('original');
    });

    it('gives a lock to one caller at a time', async () => {
      const token = await store.acquireLock('k', 60_000);
      expect(token).toBeTypeOf('string');
      await expect(store.acquireLock('k', 60_000)).resolves.toBeUndefined();
      await expect(store.acquireLock('other', 60_000)).resolves.toBeTypeOf('string');
    });

    it('frees a lock released by its holder, and ignores a release with another token', async () => {
      const token = await store.acquireLock('k', 60_000);
      await store.releaseLock('k', 'not-the-token');
      await expect(store.acquireLock('k', 60_000)).resolves.toBeUndefined();
      await store.releaseLock('k', token as string);
      await expect(store.acquireLock('k', 60_000)).resolves.toBeTypeOf('string');
    });

    it('frees a lock whose holder never released it once its TTL passes', async () => {
      const takenAt = await harness.now();
      await store.acquireLock('k', 200);
      await harness.advance(50);
      const early = await store.acquireLock('k', 200);
      // Free again only once its TTL has passed on the store's clock, however long this process was held up meanwhile.
      expect(early === undefined || (await harness.now()) - takenAt >= 200, 'freed before its TTL').toBe(true);
      await harness.advance(250);
      await expect(store.acquireLock('k', 60_000)).resolves.toBeTypeOf('string');
    });

    it('does not let a late holder release a lock that expired and was taken by someone else', async () => {
      const late = await store.acquireLock('k', 100);
      await harness.advance(200);
      const current = await store.acquireLock('k', 60_000);
      expect(current).toBeTypeOf('string');
      await store.releaseLock('k', late as string);
      await expect(store.acquireLock('k', 60_000)).resolves.toBeUndefined();
    });

    it('keeps values and locks apart', async () => {
      await store.acquireLock('k', 60_000);
      await expect(store.get('k')).resolves.toBeUndefined();
      await store.set('k', sampleCompletion(), 60_000);
      await expect(store.acquireLock('k', 60_000)).resolves.toBeUndefined();
    });
  });
}
