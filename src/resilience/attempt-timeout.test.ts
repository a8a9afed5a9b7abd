import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderTimeoutError } from '../errors/provider-errors.js';
import { systemClock } from '../internal/clock.js';
import type { AttemptResult } from '../llm/call-pipeline.js';
import { CallSignal } from '../llm/call-signal.js';
import { runWithTimeout } from './attempt-timeout.js';
import type { CallContext } from './call-context.js';
import { DeadlineExceededError } from './errors.js';

const target = { provider: 'openai', model: 'gpt-4o' } as const;
const context = (deadlineMs: number, signal?: AbortSignal): CallContext => ({
  signal,
  startedAt: Date.now(),
  deadlineMs,
  deadlineAt: Date.now() + deadlineMs,
});

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('runWithTimeout', () => {
  it('rejects with the call’s reason when the call aborts, though the shared signal it may hand out is live', async () => {
    const call = new CallSignal([], undefined, new AbortController().signal);
    let seen: AbortSignal | undefined;
    const pending = runWithTimeout(
      (info) => {
        seen = info.signal;
        return new Promise<AttemptResult<never>>(() => {});
      },
      target,
      1,
      { ...context(10_000), cancellation: call },
      2000,
      systemClock,
    );
    call.abort(new Error('abandoned'));
    await expect(pending).rejects.toThrow('abandoned');
    expect(seen?.reason).toMatchObject({ message: 'abandoned' });
    const aborted = new CallSignal([], undefined, new AbortController().signal);
    aborted.abort(new Error('gone before'));
    await expect(
      runWithTimeout(async () => ({ value: 1 }), target, 1, { ...context(10_000), cancellation: aborted }, 2000, systemClock),
    ).rejects.toThrow('gone before');
  });

  it('passes the answer through and clears its timer', async () => {
    await expect(runWithTimeout(async () => ({ value: 1 }), target, 1, context(10_000), 5000, systemClock)).resolves.toEqual({ value: 1 });
  });

  it('aborts the attempt’s signal after the timeout and fails with a retryable timeout, even if the attempt ignores it', async () => {
    let seen: AbortSignal | undefined;
    const pending = runWithTimeout(
      (info) => {
        seen = info.signal;
        return new Promise<AttemptResult<never>>(() => {});
      },
      target,
      1,
      context(10_000),
      2000,
      systemClock,
    ).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(2000);
    const error = await pending;
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error).toMatchObject({ retryable: true, countsAgainstProviderHealth: true });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('is cut sooner by the call’s deadline', async () => {
    const pending = runWithTimeout(() => new Promise<AttemptResult<never>>(() => {}), target, 1, context(500), 2000, systemClock).catch(
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(500);
    expect(await pending).toBeInstanceOf(DeadlineExceededError);
  });

  it('follows the caller’s signal and removes its listener', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const pending = runWithTimeout(
      (info) => {
        seen = info.signal;
        return new Promise<AttemptResult<never>>(() => {});
      },
      target,
      1,
      context(10_000, controller.signal),
      2000,
      systemClock,
    );
    controller.abort(new Error('user left'));
    await expect(pending).rejects.toThrow('user left');
    expect(seen?.aborted).toBe(true);
  });

  it('turns a synchronous throw into a rejection', async () => {
    const attempt = (): never => {
      throw new Error('boom');
    };
    await expect(runWithTimeout(attempt, target, 1, context(10_000), 2000, systemClock)).rejects.toThrow('boom');
  });
});
