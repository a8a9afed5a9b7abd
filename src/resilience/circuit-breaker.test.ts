import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../internal/clock.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { CircuitOpenError } from './errors.js';
import { MemoryBreakerStore } from './memory-breaker-store.js';
import { logger } from './resilience.test-helpers.js';

const target = { provider: 'openai', model: 'gpt-4o' } as const;
const key = 'openai:gpt-4o';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function make(): { breaker: CircuitBreaker; metrics: GroundworkMetrics; warnings: unknown[] } {
  const metrics = new GroundworkMetrics();
  const warnings: unknown[] = [];
  const spy = logger.child({});
  vi.spyOn(spy, 'warn').mockImplementation((...args: unknown[]) => {
    warnings.push(args);
  });
  const breaker = new CircuitBreaker({
    store: new MemoryBreakerStore({ failureThreshold: 2, resetMs: 30_000 }),
    clock: systemClock,
    logger: spy,
    metrics,
    resetMs: 30_000,
  });
  return { breaker, metrics, warnings };
}

describe('circuit breaker stage', () => {
  it('opens after the threshold, logs and counts the transition, sets the gauge, and refuses with when to retry', async () => {
    const { breaker, metrics, warnings } = make();
    for (let index = 0; index < 2; index++) await breaker.settle(target, key, await breaker.acquire(target, key), 'failure');
    expect(warnings).toHaveLength(1);
    const gauge = await metrics.breakerState.get();
    expect(gauge.values).toEqual([expect.objectContaining({ value: 2, labels: { provider: 'openai', model: 'gpt-4o' } })]);
    const transitions = await metrics.breakerTransitions.get();
    expect(transitions.values).toEqual([expect.objectContaining({ value: 1, labels: expect.objectContaining({ to: 'open' }) })]);
    const error = await breaker.acquire(target, key).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ retryAfterMs: 30_000, retryAt: Date.now() + 30_000 });
    expect((error as Error).message).toContain(new Date(Date.now() + 30_000).toISOString());
  });

  it('an answered test request (e.g. a 400) proves the provider is up; an abandoned one is handed on', async () => {
    const { breaker } = make();
    for (let index = 0; index < 2; index++) await breaker.settle(target, key, await breaker.acquire(target, key), 'failure');
    vi.advanceTimersByTime(30_000);
    const probe = await breaker.acquire(target, key);
    expect(probe.probe).toBe(true);
    await breaker.settle(target, key, probe, 'abandoned');
    const next = await breaker.acquire(target, key);
    expect(next.probe).toBe(true);
    await breaker.settle(target, key, next, 'answered');
    expect((await breaker.getState('openai', 'gpt-4o')).state).toBe('closed');
    expect(await breaker.snapshot()).toEqual([expect.objectContaining({ provider: 'openai', model: 'gpt-4o', state: 'closed' })]);
  });

  it('a test request handed back unsent is neither logged as an opening nor counted as one, however often', async () => {
    const { breaker, metrics, warnings } = make();
    for (let index = 0; index < 2; index++) await breaker.settle(target, key, await breaker.acquire(target, key), 'failure');
    vi.advanceTimersByTime(30_000);
    for (let index = 0; index < 3; index++) {
      const probe = await breaker.acquire(target, key);
      expect(probe.probe).toBe(true);
      await breaker.settle(target, key, probe, 'abandoned');
    }
    expect(warnings).toHaveLength(1);
    const transitions = await metrics.breakerTransitions.get();
    expect(transitions.values.filter((value) => value.labels.to === 'open').map((value) => value.value)).toEqual([1]);
    expect((await breaker.acquire(target, key)).probe).toBe(true);
  });

  it('answers that do not speak to health neither count nor reset', async () => {
    const { breaker } = make();
    await breaker.settle(target, key, await breaker.acquire(target, key), 'failure');
    await breaker.settle(target, key, await breaker.acquire(target, key), 'answered');
    await breaker.settle(target, key, await breaker.acquire(target, key), 'failure');
    expect((await breaker.getState('openai', 'gpt-4o')).state).toBe('open');
  });
});
