import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { OpenTransaction } from './open-transaction.js';
import { enterScope, leaveScope, queueAt, runInScope, type Scope, scopeOf } from './session-scope.js';

const owner = {};

function scope(): Scope {
  return {
    owner,
    transaction: {},
    open: { ended: false, queued: 0 } as OpenTransaction,
    parent: undefined,
    tail: undefined,
    queued: 0,
    closed: false,
  };
}

describe('session scope', () => {
  /** Switching the storage off is calling its public `disable()`: the hooks go with it. */
  let disable: MockInstance<() => void>;

  beforeEach(() => {
    vi.useFakeTimers();
    disable = vi.spyOn(AsyncLocalStorage.prototype, 'disable');
  });

  afterEach(() => {
    vi.runAllTimers();
    vi.useRealTimers();
    disable.mockRestore();
  });

  it('switches the storage off at the next turn of the event loop once no transaction runs', async () => {
    enterScope();
    const current = scope();
    await runInScope(current, async () => expect(scopeOf(owner)).toBe(current), undefined);
    leaveScope();
    // Left at once: nothing sees the scope any more, though the storage stays on until the next turn.
    expect(scopeOf(owner)).toBeUndefined();
    expect(disable).not.toHaveBeenCalled();
    vi.runAllTimers();
    expect(disable).toHaveBeenCalledTimes(1);
  });

  it('keeps the storage on when a transaction begins again before the next turn', async () => {
    enterScope();
    await runInScope(scope(), async () => undefined, undefined);
    leaveScope();
    enterScope();
    const next = scope();
    vi.runAllTimers();
    expect(disable).not.toHaveBeenCalled();
    await runInScope(next, async () => expect(scopeOf(owner)).toBe(next), undefined);
    leaveScope();
    vi.runAllTimers();
    expect(disable).toHaveBeenCalledTimes(1);
  });

  it('does not see an ended transaction from a continuation it left behind, while another runs', async () => {
    enterScope();
    const ended = scope();
    let resume: () => void = () => undefined;
    const detached = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let later: Promise<Scope | undefined> | undefined;
    // The continuation is created inside the scope: it resumes with that scope as its context.
    await runInScope(
      ended,
      async () => {
        later = detached.then(() => scopeOf(owner));
      },
      undefined,
    );
    // Another transaction begins before the first one ends, so the storage is on when the continuation resumes.
    enterScope();
    (ended.open as { ended: boolean }).ended = true;
    leaveScope();
    resume();
    expect(await later).toBeUndefined();
    leaveScope();
  });

  it('schedules the switch-off where setImmediate is replaced by one whose handle lacks unref', async () => {
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
    expect(disable).toHaveBeenCalledTimes(1);
  });

  it('runs queued tasks of a level one after another, and takes the counts back however they end', async () => {
    const level = scope();
    const order: string[] = [];
    let finishFirst: () => void = () => undefined;
    const first = queueAt(
      level,
      () =>
        new Promise<void>((resolve) => {
          order.push('first');
          finishFirst = resolve;
        }),
    );
    const failing = queueAt(level, async () => {
      order.push('failing');
      throw new Error('task failed');
    });
    const throwing = queueAt(level, () => {
      order.push('throwing');
      throw new Error('thrown at once');
    });
    expect(order).toEqual(['first']);
    expect([level.queued, level.open.queued]).toEqual([3, 3]);
    finishFirst();
    await first;
    await expect(failing).rejects.toThrow('task failed');
    await expect(throwing).rejects.toThrow('thrown at once');
    expect(order).toEqual(['first', 'failing', 'throwing']);
    await level.tail;
    expect([level.queued, level.open.queued]).toEqual([0, 0]);
    // Nothing queued: a task that throws at once still gives its count back.
    await expect(
      queueAt(level, () => {
        throw new Error('thrown at once');
      }),
    ).rejects.toThrow('thrown at once');
    await level.tail;
    expect([level.queued, level.open.queued]).toEqual([0, 0]);
  });
});
