/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time as Groundwork's policies see it. Injected everywhere time matters, so tests can use
 * fake timers. {@link systemClock} reads the global timers at call time, so `vi.useFakeTimers()` applies.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock, through the global timer functions. Its timers keep the process alive, as a
 * caller awaiting one (a backoff, a permit, a `Retry-After`) needs; a timer nobody awaits
 * (a periodic flush) is made a background one with {@link unrefTimer}.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Lets the process exit while `handle` is pending. Only for background timers that no caller
 * awaits (a ledger flush, a sweep); a timer someone awaits must keep the process alive, or Node
 * exits in the middle of the wait. Handles without `unref` (fake clocks) are left as they are.
 */
export function unrefTimer(handle: TimerHandle): TimerHandle {
  (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}
