import { describe, expect, it } from 'vitest';
import type { RateLimitRules, RateLimitStore } from './rate-limit-store.js';

/** The contract every rate-limit store keeps, run against each implementation. */
export function rateLimitStoreContract(name: string, makeStore: (rules: RateLimitRules) => Promise<RateLimitStore>): void {
  const rules: RateLimitRules = { requests: { capacity: 3, windowMs: 60_000 }, tokens: { capacity: 1000, windowMs: 60_000 } };
  const t0 = 1_700_000_000_000;

  describe(`${name} rate-limit store`, () => {
    it('grants a full bucket, then says how long until the next request', async () => {
      const store = await makeStore(rules);
      for (let index = 0; index < 3; index++) expect((await store.take('openai:m', 10, t0)).granted).toBe(true);
      const refused = await store.take('openai:m', 10, t0);
      expect(refused).toMatchObject({ granted: false, limit: 'requests', waitMs: 20_000 });
      expect((await store.take('openai:m', 10, t0 + 19_999)).granted).toBe(false);
      expect((await store.take('openai:m', 10, t0 + 20_000)).granted).toBe(true);
    });

    it('reports the levels of a key without taking anything, full before its first take', async () => {
      const store = await makeStore(rules);
      if (store.peek === undefined) throw new Error(`${name} cannot report levels`);
      expect(await store.peek('openai:peeked', t0)).toEqual({ requests: 3, tokens: 1000 });
      expect((await store.take('openai:peeked', 400, t0)).granted).toBe(true);
      expect(await store.peek('openai:peeked', t0)).toEqual({ requests: 2, tokens: 600 });
      // Reading twice took nothing; a quarter window later a quarter of each bucket is back.
      expect(await store.peek('openai:peeked', t0 + 15_000)).toEqual({ requests: 2.75, tokens: 850 });
      expect((await store.take('openai:peeked', 600, t0)).granted).toBe(true);
    });

    it('keeps keys apart', async () => {
      const store = await makeStore({ requests: { capacity: 1, windowMs: 60_000 }, tokens: undefined });
      expect((await store.take('openai:a', 0, t0)).granted).toBe(true);
      expect((await store.take('openai:b', 0, t0)).granted).toBe(true);
      expect((await store.take('openai:a', 0, t0)).granted).toBe(false);
    });

    it('limits tokens and takes both buckets or neither', async () => {
      const store = await makeStore(rules);
      expect((await store.take('k', 900, t0)).granted).toBe(true);
      const refused = await store.take('k', 200, t0);
      expect(refused).toMatchObject({ granted: false, limit: 'tokens', waitMs: 6000 });
      // The refused call took no request either: two requests remain.
      expect((await store.take('k', 50, t0)).granted).toBe(true);
      expect((await store.take('k', 50, t0)).granted).toBe(true);
      expect((await store.take('k', 0, t0)).limit).toBe('requests');
    });

    it('reconciles a reservation with the real usage', async () => {
      const store = await makeStore(rules);
      expect((await store.take('k', 1000, t0)).granted).toBe(true);
      expect((await store.take('k', 600, t0)).granted).toBe(false);
      await store.adjustTokens('k', 700, t0); // used 300 of the 1000 reserved
      expect((await store.take('k', 600, t0)).granted).toBe(true);
      await store.adjustTokens('k', -500, t0); // used 500 more than reserved
      expect(await store.take('k', 1, t0)).toMatchObject({ granted: false, limit: 'tokens' });
    });

    it('never fills a bucket beyond its capacity', async () => {
      const store = await makeStore(rules);
      await store.adjustTokens('k', 5000, t0);
      expect((await store.take('k', 1000, t0 + 600_000)).granted).toBe(true);
      expect((await store.take('k', 1, t0 + 600_000)).granted).toBe(false);
    });

    it('grants a cost above capacity once the bucket is full, then makes the next wait for it', async () => {
      const store = await makeStore(rules);
      expect((await store.take('k', 1500, t0)).granted).toBe(true); // the bucket is now 500 below zero
      expect(await store.take('k', 100, t0 + 30_000)).toMatchObject({ granted: false, limit: 'tokens', waitMs: 6000 });
    });

    it('does not refill when the clock goes backwards', async () => {
      const store = await makeStore({ requests: { capacity: 1, windowMs: 60_000 }, tokens: undefined });
      expect((await store.take('k', 0, t0)).granted).toBe(true);
      expect((await store.take('k', 0, t0 - 30_000)).granted).toBe(false);
      expect((await store.take('k', 0, t0 + 59_999)).granted).toBe(false);
      expect((await store.take('k', 0, t0 + 60_000)).granted).toBe(true);
    });
  });
}
