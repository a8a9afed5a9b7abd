import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { CallSignal, callAbortError, callAborted, callSignalOf, callSignalPlan } from './call-signal.js';

describe('CallSignal', () => {
  it('aborts when a source does, with its reason, and tells its subscribers and its signal', () => {
    const caller = new AbortController();
    const call = new CallSignal([undefined, caller.signal]);
    const heard = vi.fn();
    call.onAbort(heard);
    caller.abort(new Error('caller left'));
    expect(call.aborted).toBe(true);
    expect((call.reason as Error).message).toBe('caller left');
    expect(heard).toHaveBeenCalledOnce();
    expect(heard).toHaveBeenCalledWith(call.reason);
    expect(call.signal.aborted).toBe(true);
    expect(call.signal.reason).toBe(call.reason);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('aborts a signal already made, and only once: the first reason wins', () => {
    const call = new CallSignal([]);
    const signal = call.signal;
    const heard = vi.fn();
    call.onAbort(heard);
    call.abort('first');
    call.abort('second');
    expect(signal.reason).toBe('first');
    expect(heard).toHaveBeenCalledOnce();
  });

  it('stops calling a callback removed with offAbort', () => {
    const call = new CallSignal([]);
    const kept = vi.fn();
    const removed = vi.fn();
    call.onAbort(removed);
    call.onAbort(kept);
    call.offAbort(removed);
    call.abort('gone');
    expect(removed).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledWith('gone');
  });

  it('starts aborted when a source already is, and listens to none', () => {
    const live = new AbortController();
    const call = new CallSignal([live.signal, AbortSignal.abort('gone')]);
    expect(call.aborted).toBe(true);
    expect(call.signal.reason).toBe('gone');
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
  });

  it('no longer follows its sources once disposed, and leaves its owner', () => {
    const caller = new AbortController();
    const owner = new Set<CallSignal>();
    const call = new CallSignal([caller.signal], owner);
    expect(owner.has(call)).toBe(true);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    call.dispose();
    call.dispose();
    expect(owner.has(call)).toBe(false);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    caller.abort();
    expect(call.aborted).toBe(false);
  });

  it('hands out the shared signal when it has no source, and keeps it when aborted by it', () => {
    const shared = new AbortController();
    expect(new CallSignal([new AbortController().signal], undefined, shared.signal).signal).not.toBe(shared.signal);
    const call = new CallSignal([undefined], undefined, shared.signal);
    expect(call.signal).toBe(shared.signal);
    const reason = new Error('closing');
    shared.abort(reason);
    call.abort(reason);
    expect(call.signal).toBe(shared.signal);
  });

  it('hands out a signal of its own, aborted with its reason, once aborted otherwise than by the shared signal', () => {
    const shared = new AbortController();
    const call = new CallSignal([], undefined, shared.signal);
    call.abort(new Error('abandoned'));
    expect(shared.signal.aborted).toBe(false);
    expect(call.signal).not.toBe(shared.signal);
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as Error).message).toBe('abandoned');

    // The shared signal aborted too, but with another reason than the call's.
    const closing = new AbortController();
    const cut = new CallSignal([], undefined, closing.signal);
    closing.abort(new Error('closing'));
    cut.abort(new Error('abandoned first'));
    expect((cut.signal.reason as Error).message).toBe('abandoned first');
  });
});

describe('callAborted and callAbortError', () => {
  it('decide by the call when there is one, whatever its shared signal says, else by the caller’s signal', () => {
    const shared = new AbortController();
    const call = new CallSignal([], undefined, shared.signal);
    expect(callAborted({ cancellation: call, signal: shared.signal })).toBe(false);
    call.abort(new Error('abandoned'));
    expect(callAborted({ cancellation: call, signal: shared.signal })).toBe(true);
    expect(callAbortError({ cancellation: call })).toMatchObject({ message: 'abandoned' });

    const caller = new AbortController();
    expect(callAborted({ signal: caller.signal })).toBe(false);
    expect(callAborted({})).toBe(false);
    caller.abort('left');
    expect(callAborted({ signal: caller.signal })).toBe(true);
    expect(callAbortError({ signal: caller.signal })).toMatchObject({ name: 'AbortError', message: 'left' });
  });

  it('give an Error for a call aborted with no reason', () => {
    const call = new CallSignal([]);
    call.abort(undefined);
    expect(callAbortError({ cancellation: call })).toMatchObject({ name: 'AbortError' });
    expect(callAbortError({ cancellation: call })).toBeInstanceOf(Error);
  });
});

describe('callSignalPlan', () => {
  it('gives its call to callSignalOf and reads the call’s signal only when asked', () => {
    const call = new CallSignal([]);
    const plan = callSignalPlan([{ provider: 'openai', model: 'm' }], 10, call);
    expect(callSignalOf(plan)).toBe(call);
    expect(callSignalOf({ targets: [], estimatedTokens: 0 })).toBeUndefined();
    call.abort('gone');
    expect(plan.signal?.reason).toBe('gone');
    expect(plan.signal).toBe(call.signal);
  });
});
