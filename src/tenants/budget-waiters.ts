import { abortReason } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';

/** A place in a {@link BudgetWaiters} line, held from {@link BudgetWaiters.enter} until released. */
export interface BudgetTurn {
  /**
   * Waits until a settlement in this process may have freed room on the line's budgets, `ms`
   * pass, or `signal` aborts (then rejects with its reason). Only the head of a line calls it.
   */
  pause(ms: number, signal: AbortSignal | undefined): Promise<void>;
  /** Leaves the line; the next waiter becomes its head at once. Idempotent. */
  release(): void;
  /** Records the budget that refused the head's last attempt, for waiters whose wait runs out before they ask. */
  heldBy(counter: string): void;
}

interface Waiter {
  /** Makes this waiter the head. */
  promote(): void;
  /** Ends a pause early: room may have been freed. */
  wake?: (() => void) | undefined;
}

/**
 * The calls of one process waiting for budget held by calls in flight, one first-come line per
 * set of budgets. Only the head of a line asks the shared store for room; the others wait behind
 * it, so the oldest call is served first, a freed reservation goes to it rather than to whichever
 * poller happened to ask first, and a hundred waiters cost the store one request per pause rather
 * than a hundred. A settlement in this process wakes the heads at once; settlements in other
 * processes are seen at the head's next poll.
 */
export class BudgetWaiters {
  readonly #lines = new Map<string, Waiter[]>();
  /** The budget that refused each line's head last, kept while the line has waiters. */
  readonly #heldBy = new Map<string, string>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether anyone waits on `line`: a new call then queues behind them rather than take room first. */
  busy(line: string): boolean {
    return (this.#lines.get(line)?.length ?? 0) > 0;
  }

  /**
   * Joins the end of `line` and resolves once at its head; rejects when `signal` aborts or
   * `timeoutMs` passes first (with the error `onTimeout` makes of the budget that refused the
   * line's head last, if it has recorded one), having left the line.
   */
  enter(
    line: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    onTimeout: (heldBy: string | undefined) => Error,
  ): Promise<BudgetTurn> {
    let waiters = this.#lines.get(line);
    if (waiters === undefined) {
      waiters = [];
      this.#lines.set(line, waiters);
    }
    const queue = waiters;
    return new Promise<BudgetTurn>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      let released = false;
      const waiter: Waiter = { promote: () => {} };
      const release = () => {
        if (released) return;
        released = true;
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        if (index === 0) queue[0]?.promote();
        if (queue.length === 0 && this.#lines.get(line) === queue) {
          this.#lines.delete(line);
          this.#heldBy.delete(line);
        }
      };
      const turn: BudgetTurn = {
        pause: (ms, pauseSignal) => this.#pause(waiter, ms, pauseSignal),
        release,
        heldBy: (counter) => {
          if (!released && this.#lines.get(line) === queue) this.#heldBy.set(line, counter);
        },
      };
      const onAbort = () => fail(abortReason(signal as AbortSignal));
      const timer = this.#clock.setTimeout(() => fail(onTimeout(this.#heldBy.get(line))), Math.max(0, timeoutMs));
      const fail = (error: Error) => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        release();
        reject(error);
      };
      waiter.promote = () => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(turn);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      if (queue.length === 1) waiter.promote();
    });
  }

  /** Room may have been freed on some budget (a call of this process settled): every head asks again now. */
  wake(): void {
    for (const waiters of this.#lines.values()) waiters[0]?.wake?.();
  }

  #pause(waiter: Waiter, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const done = () => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiter.wake = undefined;
      };
      const onAbort = () => {
        done();
        reject(abortReason(signal as AbortSignal));
      };
      const timer = this.#clock.setTimeout(
        () => {
          done();
          resolve();
        },
        Math.max(0, ms),
      );
      waiter.wake = () => {
        done();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
