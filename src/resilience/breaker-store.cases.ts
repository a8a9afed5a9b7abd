import { describe, expect, it } from 'vitest';
import type { BreakerRules, BreakerStore } from './breaker-store.js';

/** The contract every breaker store keeps, run against each implementation. */
export function breakerStoreContract(name: string, makeStore: (rules: BreakerRules) => Promise<BreakerStore>): void {
  const rules: BreakerRules = { failureThreshold: 3, resetMs: 60_000 };
  const t0 = 1_700_000_000_000;

  describe(`${name} breaker store`, () => {
    it('opens after the threshold of consecutive failures, not before', async () => {
      const store = await makeStore(rules);
      expect(await store.recordFailure('k', t0, false)).toBeUndefined();
      expect(await store.recordFailure('k', t0, false)).toBeUndefined();
      expect((await store.acquire('k', t0)).allowed).toBe(true);
      expect(await store.recordFailure('k', t0, false)).toEqual({ from: 'closed', to: 'open' });
      expect(await store.acquire('k', t0 + 1)).toMatchObject({ allowed: false, retryAt: t0 + 60_000 });
      expect(await store.read('k', t0 + 1)).toMatchObject({ state: 'open', consecutiveFailures: 3, retryAt: t0 + 60_000 });
    });

    it('a success resets the count', async () => {
      const store = await makeStore(rules);
      await store.recordFailure('k', t0, false);
      await store.recordFailure('k', t0, false);
      await store.recordSuccess('k', t0, false);
      await store.recordFailure('k', t0, false);
      await store.recordFailure('k', t0, false);
      expect((await store.read('k', t0)).state).toBe('closed');
    });

    it('lets exactly one test request through after the reset time; its success closes', async () => {
      const store = await makeStore(rules);
      for (let index = 0; index < 3; index++) await store.recordFailure('k', t0, false);
      const probe = await store.acquire('k', t0 + 60_000);
      expect(probe).toMatchObject({ allowed: true, probe: true, transition: { from: 'open', to: 'half_open' } });
      expect(await store.acquire('k', t0 + 60_001)).toMatchObject({ allowed: false, probe: true });
      expect(await store.recordSuccess('k', t0 + 60_002, true)).toEqual({ from: 'half_open', to: 'closed' });
      expect(await store.acquire('k', t0 + 60_003)).toMatchObject({ allowed: true, probe: false });
      expect((await store.read('k', t0)).consecutiveFailures).toBe(0);
    });

    it('a failed test request opens the circuit again for another reset period', async () => {
      const store = await makeStore(rules);
      for (let index = 0; index < 3; index++) await store.recordFailure('k', t0, false);
      await store.acquire('k', t0 + 60_000);
      expect(await store.recordFailure('k', t0 + 61_000, true)).toEqual({ from: 'half_open', to: 'open' });
      expect(await store.acquire('k', t0 + 120_999)).toMatchObject({ allowed: false, retryAt: t0 + 121_000 });
      expect((await store.acquire('k', t0 + 121_000)).probe).toBe(true);
    });

    it('results of requests that are not the test request do not decide a half-open circuit', async () => {
      const store = await makeStore(rules);
      for (let index = 0; index < 3; index++) await store.recordFailure('k', t0, false);
      await store.acquire('k', t0 + 60_000);
      expect(await store.recordSuccess('k', t0 + 60_001, false)).toBeUndefined();
      expect(await store.recordFailure('k', t0 + 60_001, false)).toBeUndefined();
      expect((await store.read('k', t0 + 60_001)).state).toBe('half_open');
    });

    it('an abandoned test request lets the next caller test at once; a lost one after the reset time', async () => {
      const store = await makeStore(rules);
      for (let index = 0; index < 3; index++) await store.recordFailure('k', t0, false);
      await store.acquire('k', t0 + 60_000);
      await store.releaseProbe('k', t0 + 60_010);
      expect((await store.acquire('k', t0 + 60_010)).probe).toBe(true);
      // The second test request never reports: after another reset period a new one may go.
      expect((await store.acquire('k', t0 + 120_009)).allowed).toBe(false);
      expect((await store.acquire('k', t0 + 120_010)).probe).toBe(true);
    });

    it('50 concurrent callers against a circuit due for its test: exactly one is let through', async () => {
      const store = await makeStore(rules);
      for (let index = 0; index < 3; index++) await store.recordFailure('k', t0, false);
      const decisions = await Promise.all(Array.from({ length: 50 }, () => store.acquire('k', t0 + 60_000)));
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(1);
    });
  });
}
