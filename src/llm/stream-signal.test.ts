import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { runWithTimeout } from '../resilience/attempt-timeout.js';
import { ManualClock } from '../testing/manual-clock.js';
import type { AttemptInfo, AttemptResult } from './call-pipeline.js';
import { CallSignal } from './call-signal.js';
import { StreamSignal } from './stream-signal.js';

const target = { provider: 'openai' as const, model: 'gpt-4o-mini' };

/** Runs `use` as an attempt of runWithTimeout with a 1 s timeout, and hands back its StreamSignal. */
function streamAttempt(clock: ManualClock, call: CallSignal): { stream: Promise<StreamSignal>; settled: Promise<unknown> } {
  let resolveStream: (stream: StreamSignal) => void = () => {};
  const stream = new Promise<StreamSignal>((resolve) => {
    resolveStream = resolve;
  });
  const now = clock.now();
  const context = { signal: undefined, cancellation: call, startedAt: now, deadlineMs: 60_000, deadlineAt: now + 60_000 };
  const settled = runWithTimeout(
    (info: AttemptInfo): Promise<AttemptResult<never>> => {
      const link = new StreamSignal(info, { cancellation: call });
      resolveStream(link);
      // The attempt is the wait for the first chunk: it ends when the signal aborts.
      return new Promise((_resolve, reject) => link.signal.addEventListener('abort', () => reject(link.signal.reason)));
    },
    target,
    1,
    context,
    1000,
    clock,
  ).catch((error: unknown) => error);
  return { stream, settled };
}

describe('StreamSignal', () => {
  it('aborts with the attempt’s timeout, as the attempt’s own signal', async () => {
    const clock = new ManualClock();
    const { stream, settled } = streamAttempt(clock, new CallSignal([]));
    const link = await stream;
    clock.advance(1000);
    expect((await settled) as Error).toMatchObject({ code: 'provider_timeout' });
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toMatchObject({ code: 'provider_timeout' });
  });

  it('aborts with the call after the attempt is over, and no longer once disposed', async () => {
    const call = new CallSignal([]);
    const link = new StreamSignal({ target, attempt: 1, signal: new AbortController().signal }, { cancellation: call });
    call.abort(new Error('caller left'));
    expect((link.signal.reason as Error).message).toBe('caller left');

    const later = new CallSignal([]);
    const disposed = new StreamSignal({ target, attempt: 1, signal: new AbortController().signal }, { cancellation: later });
    disposed.dispose();
    later.abort('gone');
    expect(disposed.signal.aborted).toBe(false);
  });

  it('follows the signals of an attempt and a caller it cannot adopt, and lets go of them', () => {
    const attempt = new AbortController();
    const caller = new AbortController();
    const link = new StreamSignal({ target, attempt: 1, signal: attempt.signal }, { signal: caller.signal });
    expect(getEventListeners(attempt.signal, 'abort')).toHaveLength(1);
    attempt.abort('attempt over');
    expect(link.signal.reason).toBe('attempt over');
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('subscribes to nothing when the attempt it cannot adopt is already aborted', () => {
    const call = new CallSignal([]);
    const held = new Set<unknown>();
    const onAbort = call.onAbort.bind(call);
    const offAbort = call.offAbort.bind(call);
    vi.spyOn(call, 'onAbort').mockImplementation((callback) => {
      held.add(callback);
      onAbort(callback);
    });
    vi.spyOn(call, 'offAbort').mockImplementation((callback) => {
      held.delete(callback);
      offAbort(callback);
    });
    const link = new StreamSignal({ target, attempt: 1, signal: AbortSignal.abort('attempt over') }, { cancellation: call });
    expect(link.signal.reason).toBe('attempt over');
    expect(held.size).toBe(0);
    // A live attempt: the call is followed until the link is disposed.
    const live = new StreamSignal({ target, attempt: 1, signal: new AbortController().signal }, { cancellation: call });
    expect(held.size).toBe(1);
    live.dispose();
    expect(held.size).toBe(0);
  });

  it('is aborted from the start when the call already is', () => {
    const call = new CallSignal([AbortSignal.abort('gone')]);
    const link = new StreamSignal({ target, attempt: 1, signal: new AbortController().signal }, { cancellation: call });
    expect(link.signal.reason).toBe('gone');
  });
});
