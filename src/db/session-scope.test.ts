import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OpenTransaction } from './open-transaction.js';
import { enterScope, leaveScope, runInScope, type Scope, scopeOf, scopesEnabled } from './session-scope.js';

const owner = {};

function scope(): Scope {
  return { owner, transaction: {}, open: { ended: false } as OpenTransaction, tail: undefined };
}

describe('session scope', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.runAllTimers();
    vi.useRealTimers();
  });

  it('switches the storage off at the next turn of the event loop once no transaction runs', async () => {
    enterScope();
    const current = scope();
    await runInScope(current, async () => expect(scopeOf(owner)).toBe(current), undefined);
    expect(scopesEnabled()).toBe(true);
    leaveScope();
    // Left at once: nothing sees the scope any more, though the hooks stay until the next turn.
    expect(scopeOf(owner)).toBeUndefined();
    expect(scopesEnabled()).toBe(true);
    vi.runAllTimers();
    expect(scopesEnabled()).toBe(false);
  });

  it('keeps the storage on when a transaction begins again before the next turn', async () => {
    enterScope();
    await runInScope(scope(), async () => undefined, undefined);
    leaveScope();
    enterScope();
    const next = scope();
    vi.runAllTimers();
    expect(scopesEnabled()).toBe(true);
    await runInScope(next, async () => expect(scopeOf(owner)).toBe(next), undefined);
    leaveScope();
    vi.runAllTimers();
    expect(scopesEnabled()).toBe(false);
  });

  it('does not see an ended transaction while another runs', async () => {
    enterScope();
    const ended = scope();
    let later: (() => Scope | undefined) | undefined;
    await runInScope(
      ended,
      async () => {
        later = () => scopeOf(owner);
      },
      undefined,
    );
    (ended.open as { ended: boolean }).ended = true;
    expect(later?.()).toBeUndefined();
    leaveScope();
  });

  it('schedules the switch-off where setImmediate hands back a handle without unref, as fake timers may', async () => {
    const schedule = globalThis.setImmediate;
    const primitive = vi.spyOn(globalThis, 'setImmediate').mockImplementation(((callback: () => void) => {
      schedule(callback);
      return 1;
    }) as unknown as typeof setImmediate);
    try {
      enterScope();
      await runInScope(scope(), async () => undefined, undefined);
      expect(() => leaveScope()).not.toThrow();
    } finally {
      primitive.mockRestore();
    }
    vi.runAllTimers();
    expect(scopesEnabled()).toBe(false);
  });
});
