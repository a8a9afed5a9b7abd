import type { Clock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';

/** Which shared store failed, as counted in `groundwork_store_failures_total`. */
export type StoreComponent = 'rate_limit' | 'breaker' | 'tenant_rate_limit' | 'tenant_budget';

/** A shared store's operation that did not answer within the failover's bound (it may still have been carried out). */
export class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
}

/**
 * Tracks the health of a shared store (Redis) for one component: after a failure the store is
 * left alone for `retryMs` (callers use their fallback), then tried again. Each failure is counted;
 * the outage is logged once when it starts and once when it ends. Every store call is bounded by
 * `timeoutMs`, so a store that stops answering cannot hang a call.
 */
export class StoreFailover {
  readonly #component: StoreComponent;
  readonly #logger: Logger;
  readonly #metrics: GroundworkMetrics | undefined;
  readonly #clock: Clock;
  readonly retryMs: number;
  readonly timeoutMs: number;
  #downUntil = 0;
  #down = false;
  /** The most recent failure, for errors that refuse calls during an outage. */
  lastError: unknown;

  constructor(options: {
    component: StoreComponent;
    logger: Logger;
    metrics: GroundworkMetrics | undefined;
    clock: Clock;
    retryMs?: number;
    timeoutMs?: number;
  }) {
    this.#component = options.component;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#clock = options.clock;
    this.retryMs = options.retryMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** Whether the shared store should be tried now. */
  usable(now: number): boolean {
    return now >= this.#downUntil;
  }

  /**
   * Ms until the shared store is tried again, from `now` or the clock's time if later: a caller's
   * `now` may be from before an operation that waited out its bound.
   */
  retryInMs(now: number): number {
    return Math.max(0, this.#downUntil - Math.max(now, this.#clock.now()));
  }

  /** Runs a store operation, rejecting if it takes longer than `timeoutMs`. */
  bounded<T>(operation: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.setTimeout(
        () => reject(new StoreTimeoutError(`${this.#component} store did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      operation.then(
        (value) => {
          this.#clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.#clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * Marks the store down for `retryMs` from when the failure was seen: `now`, or the clock's time
   * if later. An operation started at `now` may fail only once its `timeoutMs` ran out; counted
   * from its start, the store would be due again at once and every call would wait out the bound.
   */
  failed(error: unknown, now: number): void {
    this.lastError = error;
    this.#downUntil = Math.max(now, this.#clock.now()) + this.retryMs;
    this.#metrics?.storeFailures.inc({ component: this.#component });
    if (this.#down) return;
    this.#down = true;
    this.#logger.warn(
      { err: error, component: this.#component, retryMs: this.retryMs },
      `Shared ${this.#component.replaceAll('_', '-')} store (Redis) failed; using the configured fallback until it answers again`,
    );
  }

  succeeded(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#logger.info({ component: this.#component }, `Shared ${this.#component.replaceAll('_', '-')} store (Redis) answers again`);
  }
}
