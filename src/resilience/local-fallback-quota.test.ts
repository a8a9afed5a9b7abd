import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { ManualClock } from '../testing/manual-clock.js';
import { FailoverRateLimitStore } from './failover-rate-limit-store.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import type { RateLimitStore } from './rate-limit-store.js';
import { StoreFailover } from './store-failover.js';

const QUOTA_PER_MINUTE = 100;
const REPLICAS = 4;
const OUTAGE_MS = 10_000;

/** The shared store as the replicas see it: it answers until `down` is set, then fails every call. */
function sharedStore(_clock: ManualClock, state: { down: boolean }): RateLimitStore {
  const shared = new MemoryRateLimitStore({ requests: { capacity: QUOTA_PER_MINUTE, windowMs: 60_000 }, tokens: undefined });
  return {
    take: (key, tokens, now) => (state.down ? Promise.reject(new Error('Connection is closed.')) : shared.take(key, tokens, now)),
    adjustTokens: (key, tokens, now) =>
      state.down ? Promise.reject(new Error('Connection is closed.')) : shared.adjustTokens(key, tokens, now),
  };
}

describe('replicas falling back to their local share while the shared store is down', () => {
  it('keep the fleet within the quota through the outage (local shares start empty)', async () => {
    const clock = new ManualClock();
    const state = { down: false };
    const shared = sharedStore(clock, state);
    const share = { requests: { capacity: QUOTA_PER_MINUTE / REPLICAS, windowMs: 60_000 }, tokens: undefined };
    const replicas = Array.from(
      { length: REPLICAS },
      () =>
        new FailoverRateLimitStore(
          shared,
          new MemoryRateLimitStore(share, { startEmpty: true }),
          new StoreFailover({ component: 'rate_limit', logger: silentLogger(), metrics: undefined, clock }),
        ),
    );
    // Before the outage the fleet spends its shared quota.
    let before = 0;
    for (let index = 0; index < QUOTA_PER_MINUTE * 2; index++) {
      if ((await replicas[index % REPLICAS]!.take('openai:m', 0, clock.now())).granted) before++;
    }
    expect(before).toBe(QUOTA_PER_MINUTE);
    state.down = true;
    let admitted = 0;
    for (let elapsed = 0; elapsed < OUTAGE_MS; elapsed += 10) {
      for (const replica of replicas) if ((await replica.take('openai:m', 0, clock.now())).granted) admitted++;
      clock.advance(10);
    }
    // The quota refills at 100 a minute: at most 100 × 10/60 ≈ 17 more may go through in 10 s.
    const allowed = Math.ceil((QUOTA_PER_MINUTE * OUTAGE_MS) / 60_000);
    expect(admitted).toBeLessThanOrEqual(allowed);
    expect(admitted).toBeGreaterThan(0);
  });
});
