import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../internal/clock.js';
import type { CallContext } from './call-context.js';
import { DeadlineExceededError, PipelineClosedError, RateLimitExceededError } from './errors.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import type { RateLimitRules, RateLimitStore } from './rate-limit-store.js';
import { RateLimiter } from './rate-limiter.js';

const target = { provider: 'openai', model: 'gpt-4o' } as const;
const context = (deadlineMs = 600_000, signal?: AbortSignal): CallContext => {
  const now = Date.now();
  return { signal, startedAt: now, deadlineMs, deadlineAt: now + deadlineMs };
};
const limiter = (rules: RateLimitRules, maxWaitMs = 30_000): RateLimiter =>
  new RateLimiter({ store: new MemoryRateLimitStore(rules), rules, maxWaitMs, clock: systemClock });
const perMinute = (requests: number, tokens?: number): RateLimitRules => ({
  requests: { capacity: requests, windowMs: 60_000 },
  tokens: tokens === undefined ? undefined : { capacity: tokens, windowMs: 60_000 },
});

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('rate limiter', () => {
  it('lets a burst up to the limit through at once, without timers', async () => {
    const limits = limiter(perMinute(5));
    for (let index = 0; index < 5; index++) expect(await limits.acquire(target, 0, context())).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports its buckets and the callers in line without taking a permit', async () => {
    const limits = limiter(perMinute(2, 1000), 60_000);
    expect(await limits.levels('openai', 'gpt-4o')).toEqual({
      requests: { level: 2, capacity: 2, windowMs: 60_000 },
      tokens: { level: 1000, capacity: 1000, windowMs: 60_000 },
      waiting: 0,
    });
    await limits.acquire(target, 300, context());
    await limits.acquire(target, 300, context());
    const waiting = limits.acquire(target, 100, context());
    const levels = await limits.levels('openai', 'gpt-4o');
    expect(levels).toMatchObject({ requests: { level: 0 }, tokens: { level: 400 }, waiting: 1 });
    // Reading took nothing: the caller in line gets the next request as it refills, in 30 s.
    await vi.advanceTimersByTimeAsync(30_000);
    await expect(waiting).resolves.toBe(30_000);
    expect((await limits.levels('openai', 'gpt-4o'))?.waiting).toBe(0);
  });

  it('serves waiting callers first come first served, as the bucket refills', async () => {
    const limits = limiter(perMinute(60)); // one a second
    for (let index = 0; index < 60; index++) await limits.acquire(target, 0, context());
    const order: number[] = [];
    const waits = [0, 1, 2, 3, 4].map((index) => limits.acquire(target, 0, context()).then((waited) => order.push(index) && waited));
    await vi.advanceTimersByTimeAsync(5000);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(await Promise.all(waits)).toEqual([1000, 2000, 3000, 4000, 5000]);
  });

  it('refuses with RateLimitExceededError after the longest wait, saying when to try again', async () => {
    const limits = limiter(perMinute(1), 10_000);
    await limits.acquire(target, 0, context());
    const started = Date.now();
    const refused = limits.acquire(target, 0, context()).catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = await refused;
    expect(error).toBeInstanceOf(RateLimitExceededError);
    expect(error).toMatchObject({ limit: 'requests', limitPerMinute: 1, retryAfterMs: 60_000 });
    // The bucket could not grant within 10 s, so the caller is told at once rather than after 10 s.
    expect(Date.now() - started).toBe(0);
  });

  it('a caller behind others times out at its own limit', async () => {
    const limits = limiter(perMinute(6), 15_000); // one per 10 s
    for (let index = 0; index < 6; index++) await limits.acquire(target, 0, context());
    const first = limits.acquire(target, 0, context());
    const second = limits.acquire(target, 0, context()).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await first).toBe(10_000);
    // Once first in line, the bucket says it needs 10 s more: past its 15 s limit, so it is told at once.
    expect(await second).toMatchObject({ code: 'rate_limit_exceeded', waitedMs: 10_000, retryAfterMs: 10_000 });
  });

  it('waits no longer than the call’s deadline', async () => {
    const limits = limiter(perMinute(6), 30_000);
    for (let index = 0; index < 6; index++) await limits.acquire(target, 0, context());
    await expect(limits.acquire(target, 0, context(5000))).rejects.toBeInstanceOf(DeadlineExceededError);
  });

  it('limits tokens and gives back what a call did not use', async () => {
    const limits = limiter(perMinute(100, 1000), 0);
    await limits.acquire(target, 800, context());
    await expect(limits.acquire(target, 800, context())).rejects.toMatchObject({ limit: 'tokens' });
    await limits.reconcile(target, 800, 100);
    expect(await limits.acquire(target, 800, context())).toBe(0);
  });

  it('a caller that aborts leaves the line and the next one moves up', async () => {
    const limits = limiter(perMinute(60));
    for (let index = 0; index < 60; index++) await limits.acquire(target, 0, context());
    const controller = new AbortController();
    const leaving = limits.acquire(target, 0, context(600_000, controller.signal)).catch((error: unknown) => error);
    const staying = limits.acquire(target, 0, context());
    controller.abort(new Error('gone'));
    expect(await leaving).toMatchObject({ message: 'gone' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await staying).toBe(1000);
  });

  it('gives back the tokens of a caller who left while its take was on the way to a shared store', async () => {
    const rules = perMinute(1, 1000);
    const memory = new MemoryRateLimitStore(rules);
    let answer: Promise<void> | undefined;
    let release = (): void => {};
    // A shared store: each take is a round trip, held open here.
    const store: RateLimitStore = {
      take: async (key, tokens, now) => {
        if (answer !== undefined) await answer;
        return memory.take(key, tokens, now);
      },
      adjustTokens: (key, tokens, now) => memory.adjustTokens(key, tokens, now),
    };
    const limits = new RateLimiter({ store, rules, maxWaitMs: 120_000, clock: systemClock });
    expect(await limits.acquire(target, 500, context())).toBe(0); // the one request of the minute
    const caller = new AbortController();
    const leaving = limits.acquire(target, 500, context(600_000, caller.signal)).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0); // refused for now: the caller waits in line
    answer = new Promise<void>((resolve) => {
      release = resolve;
    });
    await vi.advanceTimersByTimeAsync(60_000); // the bucket refills: the line's take goes out…
    caller.abort(new Error('gone')); // …and the caller leaves before the store answers
    expect(await leaving).toMatchObject({ message: 'gone' });
    release();
    await vi.advanceTimersByTimeAsync(0);
    // Nothing was sent: the 500 tokens reserved are back (the request permit lapses with its minute).
    expect((await memory.peek('openai:gpt-4o', Date.now())).tokens).toBe(1000);
  });

  it('close() refuses everyone waiting and stops the timers', async () => {
    const limits = limiter(perMinute(6));
    for (let index = 0; index < 6; index++) await limits.acquire(target, 0, context());
    const waiting = limits.acquire(target, 0, context()).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    limits.close();
    expect(await waiting).toBeInstanceOf(PipelineClosedError);
  });
});
