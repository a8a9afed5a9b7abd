import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { InFlightCalls } from './in-flight-calls.js';

describe('InFlightCalls.link', () => {
  it('aborts a linked call when its caller’s signal aborts, with the caller’s reason', () => {
    const calls = new InFlightCalls();
    const caller = new AbortController();
    const linked = calls.link(caller.signal);
    caller.abort(new Error('caller left'));
    expect(linked.signal.aborted).toBe(true);
    expect((linked.signal.reason as Error).message).toBe('caller left');
  });

  it('cuts the calls still running when draining gives up, and leaves the ones that ended alone', async () => {
    const clock = new ManualClock();
    const calls = new InFlightCalls();
    const running = calls.link(new AbortController().signal, new AbortController().signal);
    const ended = calls.link(new AbortController().signal);
    ended.dispose();
    const end = calls.begin();
    const draining = calls.drain(10, 10, new Error('closing'), clock);
    clock.advance(10);
    await Promise.resolve();
    expect(running.signal.aborted).toBe(true);
    expect((running.signal.reason as Error).message).toBe('closing');
    expect(ended.signal.aborted).toBe(false);
    end();
    await expect(draining).resolves.toBe(0);
    // A call linked after the cut starts aborted.
    expect(calls.link(new AbortController().signal).signal.aborted).toBe(true);
  });

  it('starts aborted when a source already is, and uses the client’s own signal when the call has none', () => {
    const calls = new InFlightCalls();
    expect(calls.link(AbortSignal.abort('gone')).signal.reason).toBe('gone');
    expect(calls.link(undefined).signal).toBe(calls.signal);
  });

  it('gives a call linked as abortable a signal of its own, which its abort reaches and the drain cuts', async () => {
    const calls = new InFlightCalls();
    const abandoned = calls.linkAbortable(undefined);
    const signal = abandoned.signal;
    expect(signal).not.toBe(calls.signal);
    abandoned.abort(new Error('abandoned'));
    expect((signal.reason as Error).message).toBe('abandoned');
    expect(calls.signal.aborted).toBe(false);

    const clock = new ManualClock();
    const running = calls.linkAbortable();
    const end = calls.begin();
    const draining = calls.drain(10, 10, new Error('closing'), clock);
    clock.advance(10);
    await Promise.resolve();
    expect((running.signal.reason as Error).message).toBe('closing');
    end();
    await draining;
    expect(calls.linkAbortable().aborted).toBe(true);
  });

  it('leaves no listener on the caller’s signal once disposed, and none on the client’s signal at all', () => {
    const calls = new InFlightCalls();
    const caller = new AbortController();
    const linked = calls.link(caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    expect(getEventListeners(calls.signal, 'abort')).toHaveLength(0);
    linked.dispose();
    linked.dispose();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    caller.abort();
    expect(linked.signal.aborted).toBe(false);
  });
});
