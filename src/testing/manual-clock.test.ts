import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('fires due timers in order and moves to the target', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    clock.advance(15);
    expect(fired).toEqual(['a']);
    expect(clock.now()).toBe(1015);
    clock.advance(5);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses to move back or by a step that is not a number, and keeps its time', () => {
    const clock = new ManualClock(1000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 10);
    for (const step of [-5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => clock.advance(step)).toThrow(/ManualClock\.advance: .*a finite number of milliseconds, 0 or more/);
    expect(clock.now()).toBe(1000);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires a timer set for NaN milliseconds at the next step, as the global setTimeout does', () => {
    const clock = new ManualClock(1000);
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, Number.NaN);
    clock.advance(1);
    expect(fired).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never moves back when a timer advances the clock further than the step that fired it', () => {
    const clock = new ManualClock(1000);
    clock.setTimeout(() => clock.advance(100), 1);
    clock.advance(5);
    expect(clock.now()).toBe(1101);
  });

  it('fires a timer set for longer than the global setTimeout can wait (over 2^31 - 1 ms) at the next step, as it does', () => {
    const clock = new ManualClock(1000);
    const fired: number[] = [];
    // Node fires these at once (with a TimeoutOverflowWarning): a clock that waited would hide that.
    clock.setTimeout(() => fired.push(1), Number.POSITIVE_INFINITY);
    clock.setTimeout(() => fired.push(2), 2 ** 31);
    clock.setTimeout(() => fired.push(3), 2 ** 31 - 1);
    clock.advance(1);
    expect(fired).toEqual([1, 2]);
    expect(clock.pendingTimers).toBe(1);
  });
});
