import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../internal/clock.js';
import type { CallContext } from './call-context.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { DeadlineExceededError, PipelineClosedError, QueueFullError, QueueTimeoutError } from './errors.js';

const context = (deadlineMs = 600_000, signal?: AbortSignal): CallContext => {
  const now = Date.now();
  return { signal, startedAt: now, deadlineMs, deadlineAt: now + deadlineMs };
};
const make = (queueMax = 10, queueTimeoutMs = 5000): ConcurrencyLimiter =>
  new ConcurrencyLimiter({ maxConcurrent: 2, queueMax, queueTimeoutMs, clock: systemClock });

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('concurrency limiter', () => {
  it('allows maxConcurrent per provider at once, each provider apart', () => {
    const limiter = make();
    expect([limiter.tryAcquire('openai'), limiter.tryAcquire('openai'), limiter.tryAcquire('openai')]).toEqual([true, true, false]);
    expect(limiter.tryAcquire('anthropic')).toBe(true);
    expect(limiter.active('openai')).toBe(2);
  });

  it('reports calls in flight and callers in line per provider', async () => {
    const limiter = make();
    expect(limiter.snapshot()).toEqual([]);
    limiter.tryAcquire('openai');
    limiter.tryAcquire('openai');
    const waiting = limiter.wait('openai', context());
    expect(limiter.snapshot()).toEqual([{ provider: 'openai', active: 2, waiting: 1, maxConcurrent: 2 }]);
    limiter.release('openai');
    await waiting;
    expect(limiter.snapshot()).toEqual([{ provider: 'openai', active: 2, waiting: 0, maxConcurrent: 2 }]);
  });

  it('hands freed slots to waiting callers first come first served', async () => {
    const limiter = make();
    limiter.tryAcquire('openai');
    limiter.tryAcquire('openai');
    const order: number[] = [];
    const waits = [0, 1, 2].map((index) => limiter.wait('openai', context()).then(() => order.push(index)));
    expect(limiter.tryAcquire('openai')).toBe(false);
    for (let index = 0; index < 3; index++) limiter.release('openai');
    await Promise.all(waits);
    expect(order).toEqual([0, 1, 2]);
    expect(limiter.active('openai')).toBe(2);
  });

  it('refuses at once when the line is full', async () => {
    const limiter = make(1);
    limiter.tryAcquire('openai');
    limiter.tryAcquire('openai');
    const waiting = limiter.wait('openai', context());
    await expect(limiter.wait('openai', context())).rejects.toBeInstanceOf(QueueFullError);
    limiter.release('openai');
    await waiting;
  });

  it('gives up after the queue timeout, or sooner at the deadline', async () => {
    const limiter = make();
    limiter.tryAcquire('openai');
    limiter.tryAcquire('openai');
    const timedOut = limiter.wait('openai', context()).catch((error: unknown) => error);
    const deadline = limiter.wait('openai', context(1000)).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await deadline).toBeInstanceOf(DeadlineExceededError);
    await vi.advanceTimersByTimeAsync(4000);
    expect(await timedOut).toMatchObject({ code: 'queue_timeout', waitedMs: 5000 });
    expect(await timedOut).toBeInstanceOf(QueueTimeoutError);
  });

  it('an aborted caller leaves the line; close() refuses the rest', async () => {
    const limiter = make();
    limiter.tryAcquire('openai');
    limiter.tryAcquire('openai');
    const controller = new AbortController();
    const leaving = limiter.wait('openai', context(600_000, controller.signal)).catch((error: unknown) => error);
    const staying = limiter.wait('openai', context()).catch((error: unknown) => error);
    controller.abort(new Error('gone'));
    expect(await leaving).toMatchObject({ message: 'gone' });
    limiter.close();
    expect(await staying).toBeInstanceOf(PipelineClosedError);
  });
});
