import type { Clock, TimerHandle } from '../internal/clock.js';

/** The longest delay the global `setTimeout` waits; a longer one it fires at once. */
const TIMEOUT_MAX = 2 ** 31 - 1;

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to, for tests of timeouts without sleeping: hand it to
 * Groundwork (`clock`), then {@link ManualClock.advance} past a timeout to fire it.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: Timer[] = [];

  constructor(start = Date.parse('2025-01-01T00:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /**
   * As the global `setTimeout`, a delay that is negative, not a number, or longer than it can wait
   * (over 2^31 - 1 ms, Infinity included) is none: the timer falls due at once.
   */
  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + (ms > 0 && ms <= TIMEOUT_MAX ? ms : 0), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order. Time never moves
   * back: a negative, infinite or NaN `ms` is a RangeError, and the clock keeps its time.
   */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`ManualClock.advance: ms must be a finite number of milliseconds, 0 or more (got ${String(ms)})`);
    }
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((timer) => timer !== due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    // A timer's callback may have advanced the clock past the target itself.
    this.#now = Math.max(this.#now, target);
  }
}
