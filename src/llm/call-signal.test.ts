import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { CallSignal, callSignalOf, callSignalPlan } from './call-signal.js';

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

  it('hands out the shared signal when it has no source', () => {
    const shared = new AbortController().signal;
    expect(new CallSignal([undefined], undefined, shared).signal).toBe(shared);
    expect(new CallSignal([new AbortController().signal], undefined, shared).signal).not.toBe(shared);
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
