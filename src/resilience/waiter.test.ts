import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../internal/clock.js';
import type { CallContext } from './call-context.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import type { RateLimitRules } from './rate-limit-store.js';
import { RateLimiter } from './rate-limiter.js';

/*
 * Under steady load a line of waiting callers never empties: a new caller joins before the one in
 * front is served. Each served caller must then be let go of (its call context, and all its call
 * holds), not kept until the line happens to empty, which under load is never.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
// Captured before any test fakes the timers: a WeakRef is only cleared between macrotasks.
const nextTask = setImmediate;

/** How many of `refs` the garbage collector has taken. */
async function collected(refs: Array<WeakRef<object>>): Promise<number> {
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => nextTask(resolve));
    gc();
  }
  return refs.filter((ref) => ref.deref() === undefined).length;
}

const target = { provider: 'openai', model: 'steady' } as const;
const context = (signal?: AbortSignal): CallContext => {
  const now = Date.now();
  return { signal, startedAt: now, deadlineMs: 600_000, deadlineAt: now + 600_000 };
};

afterEach(() => {
  vi.useRealTimers();
});

describe('a line that never empties', () => {
  it('concurrency: callers served from a busy line are let go of, not held until it empties', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, queueMax: 10, queueTimeoutMs: 600_000, clock: systemClock });
    expect(limiter.tryAcquire('openai')).toBe(true);
    const early: Array<WeakRef<object>> = [];
    let waiting = limiter.wait('openai', context());
    for (let index = 0; index < 2000; index++) {
      const caller = context();
      if (index < 200) early.push(new WeakRef(caller));
      const next = limiter.wait('openai', caller);
      limiter.release('openai');
      await waiting;
      waiting = next;
    }
    expect(await collected(early)).toBe(early.length);
    limiter.release('openai');
    await waiting;
    limiter.release('openai');
    expect(limiter.active('openai')).toBe(0);
  });

  it('concurrency: callers who gave up behind a caller that waits long are let go of too', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, queueMax: 10, queueTimeoutMs: 600_000, clock: systemClock });
    expect(limiter.tryAcquire('openai')).toBe(true);
    const first = limiter.wait('openai', context());
    const early: Array<WeakRef<object>> = [];
    for (let index = 0; index < 2000; index++) {
      const cancel = new AbortController();
      const caller = context(cancel.signal);
      if (index < 200) early.push(new WeakRef(caller));
      const gaveUp = limiter.wait('openai', caller).catch((error: unknown) => error);
      cancel.abort(new Error('caller gave up'));
      expect(await gaveUp).toMatchObject({ message: 'caller gave up' });
    }
    expect(await collected(early)).toBe(early.length);
    limiter.release('openai');
    await first;
    limiter.release('openai');
    expect(limiter.active('openai')).toBe(0);
  });

  it('rate limit: callers granted permits from a busy line are let go of', async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const rules: RateLimitRules = { requests: { capacity: 60, windowMs: 60_000 }, tokens: undefined }; // one a second
    const limits = new RateLimiter({ store: new MemoryRateLimitStore(rules), rules, maxWaitMs: 600_000, clock: systemClock });
    for (let index = 0; index < 60; index++) await limits.acquire(target, 0, context());
    const early: Array<WeakRef<object>> = [];
    let waiting = limits.acquire(target, 0, context());
    for (let index = 0; index < 1000; index++) {
      const caller = context();
      if (index < 100) early.push(new WeakRef(caller));
      const next = limits.acquire(target, 0, caller);
      await vi.advanceTimersByTimeAsync(1000);
      expect(await waiting).toBeGreaterThan(0);
      waiting = next;
    }
    expect(await collected(early)).toBe(early.length);
    await vi.advanceTimersByTimeAsync(1000);
    await waiting;
    expect(vi.getTimerCount()).toBe(0);
  });
});
