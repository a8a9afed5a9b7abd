import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { BudgetWaiters } from './budget-waiters.js';

const timedOut = () => new Error('waited too long');

describe('BudgetWaiters', () => {
  it('serves a line first come, first served: each waiter becomes its head when the one before leaves', async () => {
    const waiters = new BudgetWaiters(new ManualClock());
    const order: string[] = [];
    const enter = (name: string) =>
      waiters.enter('key:a:total', 1000, undefined, timedOut).then((turn) => {
        order.push(name);
        return turn;
      });
    const first = await enter('first');
    const second = enter('second');
    const third = enter('third');
    await Promise.resolve();
    expect(order).toEqual(['first']);
    expect(waiters.busy('key:a:total')).toBe(true);
    expect(waiters.busy('key:b:total')).toBe(false);
    first.release();
    (await second).release();
    (await third).release();
    expect(order).toEqual(['first', 'second', 'third']);
    expect(waiters.busy('key:a:total')).toBe(false);
  });

  it('lets a waiter behind the head give up after its time, and leaves the line to the others', async () => {
    const clock = new ManualClock();
    const waiters = new BudgetWaiters(clock);
    const head = await waiters.enter('line', 1000, undefined, timedOut);
    const impatient = waiters.enter('line', 100, undefined, timedOut);
    const patient = waiters.enter('line', 1000, undefined, timedOut);
    clock.advance(100);
    await expect(impatient).rejects.toThrow('waited too long');
    head.release();
    (await patient).release();
    expect(clock.pendingTimers).toBe(0);
  });

  it("tells a waiter that gives up the budget that refused the line's head last, and forgets it with the line", async () => {
    const clock = new ManualClock();
    const waiters = new BudgetWaiters(clock);
    const named = (heldBy: string | undefined) => new Error(`held by ${heldBy ?? 'nothing known'}`);
    const head = await waiters.enter('line', 1000, undefined, named);
    head.heldBy('team:t:total');
    const impatient = waiters.enter('line', 100, undefined, named);
    clock.advance(100);
    await expect(impatient).rejects.toThrow('held by team:t:total');
    head.release();
    // A released turn records nothing, and a new line starts knowing nothing.
    head.heldBy('key:k:total');
    const next = await waiters.enter('line', 1000, undefined, named);
    const behind = waiters.enter('line', 100, undefined, named);
    clock.advance(100);
    await expect(behind).rejects.toThrow('held by nothing known');
    next.release();
  });

  it('ends a pause of the head early when a settlement may have freed room, and on abort', async () => {
    const clock = new ManualClock();
    const waiters = new BudgetWaiters(clock);
    const turn = await waiters.enter('line', 1000, undefined, timedOut);
    let woken = false;
    const pause = turn.pause(50, undefined).then(() => {
      woken = true;
    });
    waiters.wake();
    await pause;
    expect(woken).toBe(true);
    const controller = new AbortController();
    const aborted = turn.pause(50, controller.signal);
    controller.abort(new Error('caller gone'));
    await expect(aborted).rejects.toThrow('caller gone');
    turn.release();
    expect(clock.pendingTimers).toBe(0);
  });
});
