import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { ManualClock } from '../testing/manual-clock.js';
import { RateLimitStoreUnavailableError } from './errors.js';
import { FailoverRateLimitStore } from './failover-rate-limit-store.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import type { RateLimitRules, RateLimitStore } from './rate-limit-store.js';
import { StoreFailover } from './store-failover.js';

const rules: RateLimitRules = { requests: { capacity: 10, windowMs: 60_000 }, tokens: undefined };
const share: RateLimitRules = { requests: { capacity: 5, windowMs: 60_000 }, tokens: undefined };

/** The shared store (Redis) as a unit sees it: buckets in memory that fail every call while `down`, counting the calls. */
function sharedStore(): RateLimitStore & { down: boolean; calls: number } {
  const buckets = new MemoryRateLimitStore(rules, { reportLevels: true });
  const store = {
    down: false,
    calls: 0,
    take: (key: string, tokens: number, now: number) => answer(() => buckets.take(key, tokens, now)),
    adjustTokens: (key: string, tokens: number, now: number) => answer(() => buckets.adjustTokens(key, tokens, now)),
    peek: (key: string, now: number) => answer(() => buckets.peek(key, now)),
  };
  function answer<T>(operation: () => Promise<T>): Promise<T> {
    store.calls++;
    return store.down ? Promise.reject(new Error('Connection is closed.')) : operation();
  }
  return store;
}

function setUp(options: { local: boolean }) {
  const clock = new ManualClock();
  const shared = sharedStore();
  const failover = new StoreFailover({ component: 'tenant_rate_limit', logger: silentLogger(), metrics: undefined, clock, retryMs: 1000 });
  const local = () => (options.local ? new MemoryRateLimitStore(share, { startEmpty: true, reportLevels: true }) : undefined);
  // Two stores (two rule sets) on one failover, as the tenants' rate limits are built.
  const store = new FailoverRateLimitStore(shared, local(), failover);
  const sibling = new FailoverRateLimitStore(shared, local(), failover);
  return { clock, shared, failover, store, sibling };
}

describe('FailoverRateLimitStore.peek', () => {
  it("answers the shared store's levels while it answers", async () => {
    const { clock, shared, store } = setUp({ local: true });
    await store.take('key:a', 0, clock.now());
    expect(await store.peek('key:a', clock.now())).toEqual({ requests: 9, tokens: undefined });
    expect(shared.calls).toBe(2);
  });

  it('does not ask a shared store known to be down: it answers the local share (empty at the outage start)', async () => {
    const { clock, shared, store, sibling } = setUp({ local: true });
    shared.down = true;
    // Another store on the same failover finds Redis down.
    await sibling.take('key:b', 0, clock.now());
    const before = shared.calls;
    expect(await store.peek('key:a', clock.now())).toEqual({ requests: 0, tokens: undefined });
    expect(shared.calls).toBe(before);
  });

  it('refuses with RateLimitStoreUnavailableError, without asking, when the store is known down and there is no local share', async () => {
    const { clock, shared, store, sibling } = setUp({ local: false });
    shared.down = true;
    await expect(sibling.take('key:b', 0, clock.now())).rejects.toBeInstanceOf(RateLimitStoreUnavailableError);
    const before = shared.calls;
    const refused = await store.peek('key:a', clock.now()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitStoreUnavailableError);
    expect((refused as RateLimitStoreUnavailableError).retryAfterMs).toBe(1000);
    expect(shared.calls).toBe(before);
  });

  it('throws a failed peek without marking the shared store down: the calls being admitted still go to it', async () => {
    const { clock, shared, failover, store, sibling } = setUp({ local: true });
    shared.down = true;
    await expect(store.peek('key:a', clock.now())).rejects.toThrow('Connection is closed.');
    expect(failover.usable(clock.now())).toBe(true);
    shared.down = false;
    const before = shared.calls;
    await sibling.take('key:b', 0, clock.now());
    expect(shared.calls).toBe(before + 1);
    expect(await store.peek('key:b', clock.now())).toEqual({ requests: 9, tokens: undefined });
  });

  it('answers the local share when a peek fails during an outage, and leaves the outage to the takes to end', async () => {
    const { clock, shared, failover, store } = setUp({ local: true });
    shared.down = true;
    await store.take('key:a', 0, clock.now());
    clock.advance(1000);
    // Retry time passed, the store still down: the peek asks, fails, and answers the local share.
    const before = shared.calls;
    expect(await store.peek('key:a', clock.now())).toEqual({ requests: expect.closeTo(5 / 60, 6), tokens: undefined });
    expect(shared.calls).toBe(before + 1);
    expect(failover.usable(clock.now())).toBe(true);
  });

  it('asks the shared store again once the retry time has passed, without waiting for a take, and leaves the local share on its answer', async () => {
    const { clock, shared, failover, store } = setUp({ local: true });
    await store.take('key:a', 0, clock.now());
    shared.down = true;
    // The outage: takes are admitted from the local share.
    await store.take('key:a', 0, clock.now());
    expect(await store.peek('key:a', clock.now())).toEqual({ requests: 0, tokens: undefined });
    shared.down = false;
    clock.advance(1000);
    // No take has run since: the peek itself asks the store that is back (9 left, refilled for 1 s at 10/min).
    const shared9 = { requests: expect.closeTo(9 + 10 / 60, 6), tokens: undefined };
    const before = shared.calls;
    expect(await store.peek('key:a', clock.now())).toEqual(shared9);
    expect(shared.calls).toBe(before + 1);
    expect(failover.usable(clock.now())).toBe(true);
    expect(await store.peek('key:a', clock.now())).toEqual(shared9);
    expect(shared.calls).toBe(before + 2);
  });

  it('says so when the store admitting calls cannot report levels', async () => {
    const clock = new ManualClock();
    const failover = new StoreFailover({ component: 'rate_limit', logger: silentLogger(), metrics: undefined, clock });
    const shared: RateLimitStore = { take: async () => ({ granted: true, waitMs: 0 }) as never, adjustTokens: async () => {} };
    const store = new FailoverRateLimitStore(shared, undefined, failover);
    await expect(store.peek('key:a', clock.now())).rejects.toThrow(TypeError);
  });
});

describe('a shared store that stops answering (no refusal, no reply)', () => {
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  /** Takes once, advancing the clock in 100 ms steps until the take settles; answers the ms it waited. */
  async function timedTake(store: FailoverRateLimitStore, clock: ManualClock): Promise<number> {
    const started = clock.now();
    let done = false;
    const taking = store.take('key:a', 0, clock.now()).finally(() => {
      done = true;
    });
    await tick();
    while (!done) {
      clock.advance(100);
      await tick();
    }
    await taking;
    return clock.now() - started;
  }

  it('is left alone for retryMs counted from when its timeout ran out, so only the first call waits the bound', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const hung: RateLimitStore = {
      take: () => {
        calls++;
        return new Promise(() => {});
      },
      adjustTokens: () => new Promise(() => {}),
    };
    const failover = new StoreFailover({
      component: 'rate_limit',
      logger: silentLogger(),
      metrics: undefined,
      clock,
      timeoutMs: 2000,
      retryMs: 1000,
    });
    const store = new FailoverRateLimitStore(hung, new MemoryRateLimitStore(rules), failover);
    expect(await timedTake(store, clock)).toBe(2000);
    expect(failover.retryInMs(clock.now())).toBe(1000);
    expect(await timedTake(store, clock)).toBe(0);
    expect(await timedTake(store, clock)).toBe(0);
    expect(calls).toBe(1);
  });

  it('refused without a local share, tells the caller to come back when the store is tried again, not the bound later', async () => {
    const clock = new ManualClock();
    const hung: RateLimitStore = { take: () => new Promise(() => {}), adjustTokens: () => new Promise(() => {}) };
    const failover = new StoreFailover({
      component: 'rate_limit',
      logger: silentLogger(),
      metrics: undefined,
      clock,
      timeoutMs: 2000,
      retryMs: 1000,
    });
    const store = new FailoverRateLimitStore(hung, undefined, failover);
    const refused = store.take('key:a', 0, clock.now()).catch((error: unknown) => error);
    await tick();
    clock.advance(2000);
    const error = await refused;
    expect(error).toBeInstanceOf(RateLimitStoreUnavailableError);
    expect(error).toMatchObject({ retryAfterMs: 1000 });
  });
});
