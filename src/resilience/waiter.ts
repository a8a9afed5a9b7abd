import { abortReason } from '../internal/abort.js';
import type { Clock, TimerHandle } from '../internal/clock.js';

/** Who a {@link Waiter} reports to when its time runs out or its caller gives up. */
export interface WaiterOwner<W> {
  onExpired(waiter: W): void;
  onCancelled(waiter: W): void;
}

/**
 * One caller waiting in a FIFO queue: a promise, a timer for the longest wait and a listener on
 * the caller's signal. Whichever settles it first removes the other two, so nothing is left behind.
 */
export class Waiter {
  settled = false;
  readonly enqueuedAt: number;
  readonly limitAt: number;
  readonly promise: Promise<number>;
  readonly #owner: WaiterOwner<this>;
  readonly #clock: Clock;
  readonly #signal: AbortSignal | undefined;
  #resolve!: (waitedMs: number) => void;
  #reject!: (error: unknown) => void;
  #timer: TimerHandle | undefined;

  constructor(owner: WaiterOwner<Waiter>, clock: Clock, signal: AbortSignal | undefined, now: number, limitAt: number) {
    this.#owner = owner as WaiterOwner<this>;
    this.#clock = clock;
    this.#signal = signal;
    this.enqueuedAt = now;
    this.limitAt = limitAt;
    this.promise = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.settled) this.#owner.onExpired(this);
    }, limitAt - now);
    signal?.addEventListener('abort', this);
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    if (this.settled || this.#signal === undefined) return;
    this.reject(abortReason(this.#signal));
    this.#owner.onCancelled(this);
  }

  /** Lets the caller go; `now` gives how long it waited. */
  resolve(now: number): void {
    if (this.#settle()) this.#resolve(now - this.enqueuedAt);
  }

  reject(error: unknown): void {
    if (this.#settle()) this.#reject(error);
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener('abort', this);
    return true;
  }
}

/** Settled callers a {@link WaitQueue} may hold before it lets go of them. */
const COMPACT_AT = 64;

/**
 * First in, first out, skipping callers that already gave up. It holds only the callers still
 * waiting (and a bounded number that left): under steady load the line never empties, and a
 * queue that let go of its settled callers only then would keep every call that ever waited.
 */
export class WaitQueue<W extends Waiter> {
  #items: W[] = [];
  #head = 0;
  /** Callers still waiting. */
  live = 0;

  push(waiter: W): void {
    // Callers that gave up behind a long wait at the front: drop them once they outnumber the rest.
    if (this.#items.length - this.#head > 2 * this.live + COMPACT_AT) {
      this.#items = this.#items.filter((item, index) => index >= this.#head && !item.settled);
      this.#head = 0;
    }
    this.#items.push(waiter);
    this.live++;
  }

  /** The first caller still waiting, if any. */
  peek(): W | undefined {
    while (this.#head < this.#items.length) {
      const first = this.#items[this.#head] as W;
      if (!first.settled) {
        // Let go of the callers already served, in amortised constant time.
        if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        return first;
      }
      this.#head++;
    }
    if (this.#head > 0) {
      this.#items = [];
      this.#head = 0;
    }
    return undefined;
  }

  /** Every caller still waiting, in order. */
  drain(): W[] {
    const waiting = this.#items.slice(this.#head).filter((waiter) => !waiter.settled);
    this.#items = [];
    this.#head = 0;
    this.live = 0;
    return waiting;
  }
}
