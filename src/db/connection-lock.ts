import type { Clock } from '../internal/clock.js';
import { DatabaseClosedError } from './database-closed-error.js';
import type { PoolStats } from './pool-stats.js';
import { PoolTimeoutError } from './pool-timeout-error.js';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  timer: unknown;
}

/**
 * Serialises the single connection of an embedded database (SQLite, PGlite): one holder at a
 * time, the others wait in order for at most `acquireTimeoutMs`, then get a {@link PoolTimeoutError}.
 */
export class ConnectionLock {
  #held = false;
  #closed = false;
  readonly #waiters: Waiter[] = [];
  readonly #acquireTimeoutMs: number;
  readonly #clock: Clock;

  constructor(acquireTimeoutMs: number, clock: Clock) {
    this.#acquireTimeoutMs = acquireTimeoutMs;
    this.#clock = clock;
  }

  /** Takes the connection if it is free (and the lock open): true if taken, else the caller must {@link ConnectionLock.acquire}. */
  tryAcquire(): boolean {
    if (this.#held || this.#closed) return false;
    this.#held = true;
    return true;
  }

  /** Takes the connection, waiting if another caller holds it. */
  acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(new DatabaseClosedError());
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: this.#clock.setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          const stats = this.stats();
          if (index !== -1) this.#waiters.splice(index, 1);
          reject(new PoolTimeoutError(this.#acquireTimeoutMs, stats));
        }, this.#acquireTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Hands the connection to the next waiter, or marks it free. */
  release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) {
      this.#held = false;
      return;
    }
    this.#clock.clearTimeout(next.timer);
    next.resolve();
  }

  /** Whether someone holds the connection. */
  get held(): boolean {
    return this.#held;
  }

  /** Pool-shaped counts: one connection, idle or not. */
  stats(): PoolStats {
    return { total: this.#closed ? 0 : 1, idle: this.#held || this.#closed ? 0 : 1, waiting: this.#waiters.length, max: 1 };
  }

  /** Refuses new callers and fails every waiter. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      this.#clock.clearTimeout(waiter.timer);
      waiter.reject(new DatabaseClosedError());
    }
  }
}
