import { abortReason, linkSignals, sleep, untilAborted } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';
import { systemClock } from '../internal/clock.js';
import type { ChatCompletion } from '../llm/types.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { CacheStore } from './cache-store.js';
import { CorruptCacheEntryError } from './corrupt-cache-entry-error.js';
import type { CacheLookup, CacheMode, ResponseCache, SharedCompute } from './response-cache.js';
import { uncachedReason } from './uncached-answer.js';

/** How concurrent callers of one key agree on a single compute across processes. */
export interface SingleFlightOptions {
  /** Lifetime of a compute lock, in ms: a holder that dies blocks the key at most this long. @default 30000 */
  lockTtlMs: number;
  /** Longest a caller waits for another holder's answer before computing itself, in ms. @default 30000 */
  waitTimeoutMs: number;
  /** First pause between two looks at the store while waiting, in ms; it doubles up to `maxPollIntervalMs`. @default 5 */
  pollIntervalMs: number;
  /** Longest pause between two looks at the store while waiting, in ms. @default 100 */
  maxPollIntervalMs: number;
}

/** The defaults of {@link SingleFlightOptions}. */
export const DEFAULT_SINGLE_FLIGHT: Readonly<SingleFlightOptions> = Object.freeze({
  lockTtlMs: 30_000,
  waitTimeoutMs: 30_000,
  pollIntervalMs: 5,
  maxPollIntervalMs: 100,
});

/** Shortest time between two warnings about store failures, in ms; failures in between are logged at debug. */
const FAILURE_WARNING_INTERVAL_MS = 10_000;

/** Options for {@link StoreResponseCache}. */
export interface StoreResponseCacheOptions {
  store: CacheStore;
  /** Lifetime of a stored answer, in ms. */
  ttlMs: number;
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  singleFlight?: Partial<SingleFlightOptions> | undefined;
}

/** Where one caller's answer came from. */
type Source = 'store' | 'computed' | 'shared';

interface Outcome {
  completion: ChatCompletion;
  source: Source;
  /** The store failed along the way (the call was answered anyway). */
  storeFailed: boolean;
}

interface Flight {
  promise: Promise<Outcome>;
  /** A `refresh` flight: its answer is freshly computed, never read from the store. */
  fresh: boolean;
  /** The flight's own cancellation, which its compute runs on: aborted only when its last waiter leaves. */
  controller: AbortController;
  /** Callers waiting for the flight's answer, its starter included. */
  waiters: number;
  settled: boolean;
}

/**
 * The {@link ResponseCache} over any {@link CacheStore}, with single flight: concurrent callers
 * of one key in this process share one promise; across processes the first to take the store's
 * compute lock computes while the others poll the store for its answer, and compute themselves
 * if the holder releases without an answer, dies (the lock expires) or the wait runs too long.
 * Every store failure is logged and counted and falls through to `compute`.
 *
 * A flight runs on a cancellation of its own, not on any caller's: each caller waits for it
 * under its own signal and, when that aborts, is released at once with its own reason while
 * the others keep waiting; the flight (and the upstream call under it) is aborted only when
 * its last caller has left. A caller arriving after that starts a flight of its own.
 */
export class StoreResponseCache implements ResponseCache {
  readonly #store: CacheStore;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #metrics: GroundworkMetrics | undefined;
  readonly #clock: Clock;
  readonly #flight: SingleFlightOptions;
  readonly #flights = new Map<string, Flight>();
  readonly #closing = new AbortController();
  #lastWarningAt: number | undefined;
  #failuresSinceWarning = 0;

  constructor(options: StoreResponseCacheOptions) {
    this.#store = options.store;
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#clock = options.clock ?? systemClock;
    this.#flight = { ...DEFAULT_SINGLE_FLIGHT, ...definedOnly(options.singleFlight ?? {}) };
  }

  async getOrCompute(key: string, compute: SharedCompute, mode: CacheMode, signal?: AbortSignal): Promise<CacheLookup> {
    // Once closed, the cache steps aside: the call still gets its answer.
    if (mode === 'bypass' || this.#closing.signal.aborted) return { completion: await compute(undefined), hit: false };
    if (signal?.aborted) throw abortReason(signal);
    const running = this.#flights.get(key);
    if (running !== undefined && (mode === 'use' || running.fresh)) {
      if (this.#metrics !== undefined) increment(this.#metrics.cacheLookups, { result: 'shared' });
      return { completion: (await this.#wait(key, running, signal)).completion, hit: true };
    }
    const flight = this.#start(key, compute, mode);
    const outcome = await this.#wait(key, flight, signal);
    if (mode === 'use' && this.#metrics !== undefined) increment(this.#metrics.cacheLookups, { result: lookupResult(outcome) });
    return { completion: outcome.completion, hit: outcome.source !== 'computed' };
  }

  /** Starts the flight of `key`, which stays the key's until it settles or its last waiter leaves. */
  #start(key: string, compute: SharedCompute, mode: 'use' | 'refresh'): Flight {
    const controller = new AbortController();
    const shared = (): Promise<ChatCompletion> => compute(controller.signal);
    const flight: Flight = {
      promise: mode === 'use' ? this.#lookup(key, shared, controller.signal) : this.#refresh(key, shared),
      fresh: mode === 'refresh',
      controller,
      waiters: 0,
      settled: false,
    };
    const settled = (): void => {
      flight.settled = true;
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    // Also the flight's rejection handler: when every waiter has left, nobody else awaits it.
    flight.promise.then(settled, settled);
    this.#flights.set(key, flight);
    return flight;
  }

  /**
   * Waits for `flight` under the caller's `signal`: released with the signal's reason as soon as
   * it aborts. The last waiter to leave a flight still running aborts it and forgets it.
   */
  async #wait(key: string, flight: Flight, signal: AbortSignal | undefined): Promise<Outcome> {
    flight.waiters++;
    try {
      return await untilAborted(flight.promise, signal);
    } finally {
      flight.waiters--;
      if (flight.waiters === 0 && !flight.settled) {
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
        flight.controller.abort(signal?.reason);
      }
    }
  }

  /** Stops waiting for other processes' answers (those callers compute themselves) and releases the store. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Error('The response cache is closed'));
    await this.#store.close();
  }

  async #lookup(key: string, compute: Compute, signal: AbortSignal): Promise<Outcome> {
    try {
      const cached = await this.#store.get(key);
      if (cached !== undefined) return { completion: cached, source: 'store', storeFailed: false };
    } catch (error) {
      this.#storeFailed('get', key, error);
      if (!(error instanceof CorruptCacheEntryError)) return this.#computeWithoutStore(compute);
      await this.#deleteCorrupt(key);
      return { ...(await this.#computeUnderLock(key, compute, signal)), storeFailed: true };
    }
    return this.#computeUnderLock(key, compute, signal);
  }

  async #refresh(key: string, compute: Compute): Promise<Outcome> {
    return this.#computeAndStore(key, compute);
  }

  /**
   * Takes the key's lock and computes, or waits for the holder's answer; see the class comment.
   * Stops waiting, rejecting with its reason, when the flight's `signal` aborts.
   */
  async #computeUnderLock(key: string, compute: Compute, signal: AbortSignal): Promise<Outcome> {
    const deadline = this.#clock.now() + this.#flight.waitTimeoutMs;
    let pause = this.#flight.pollIntervalMs;
    for (;;) {
      let token: string | undefined;
      try {
        token = await this.#store.acquireLock(key, this.#flight.lockTtlMs);
      } catch (error) {
        this.#storeFailed('lock', key, error);
        return this.#computeWithoutStore(compute);
      }
      if (token !== undefined) return this.#computeHoldingLock(key, compute, token);

      if (this.#clock.now() >= deadline) {
        this.#logger.warn(
          { key, waitTimeoutMs: this.#flight.waitTimeoutMs },
          'Waited too long for another caller to answer; computing here',
        );
        return this.#computeAndStore(key, compute);
      }
      // Linked only while pausing: a listener on the shared closing signal for the whole compute costs every call.
      const pauses = linkSignals(this.#closing.signal, signal);
      try {
        await sleep(Math.min(pause, Math.max(0, deadline - this.#clock.now())), pauses.signal, this.#clock);
      } catch {
        // Every waiter has left: nobody wants the answer any more.
        if (signal.aborted) throw abortReason(signal);
        return this.#computeWithoutStore(compute);
      } finally {
        pauses.dispose();
      }
      pause = Math.min(pause * 2, this.#flight.maxPollIntervalMs);
      try {
        const shared = await this.#store.get(key);
        if (shared !== undefined) return { completion: shared, source: 'shared', storeFailed: false };
      } catch (error) {
        this.#storeFailed('get', key, error);
        return this.#computeWithoutStore(compute);
      }
    }
  }

  async #computeHoldingLock(key: string, compute: Compute, token: string): Promise<Outcome> {
    try {
      // The previous holder may have stored its answer and released the lock between our read and our lock.
      const stored = await this.#store.get(key).catch((error: unknown) => {
        this.#storeFailed('get', key, error);
        return undefined;
      });
      if (stored !== undefined) return { completion: stored, source: 'shared', storeFailed: false };
      return await this.#computeAndStore(key, compute);
    } finally {
      await this.#store.releaseLock(key, token).catch((error: unknown) => this.#storeFailed('unlock', key, error));
    }
  }

  async #computeAndStore(key: string, compute: Compute): Promise<Outcome> {
    const completion = await compute();
    const stored = await this.#write(key, completion);
    return { completion, source: 'computed', storeFailed: !stored };
  }

  async #computeWithoutStore(compute: Compute): Promise<Outcome> {
    return { completion: await compute(), source: 'computed', storeFailed: true };
  }

  /** Stores an answer (not one `uncachedReason` names, which is logged at debug); false (logged and counted) when the store fails. */
  async #write(key: string, completion: ChatCompletion): Promise<boolean> {
    const reason = uncachedReason(completion);
    if (reason !== undefined) {
      this.#logger.debug({ key, reason }, 'Answer not cached: it does not answer what its key names');
      return true;
    }
    if (this.#closing.signal.aborted) return true;
    try {
      await this.#store.set(key, completion, this.#ttlMs);
      return true;
    } catch (error) {
      this.#storeFailed('set', key, error);
      return false;
    }
  }

  async #deleteCorrupt(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (error) {
      this.#storeFailed('delete', key, error);
    }
  }

  /** Counts every failure; warns at most once per {@link FAILURE_WARNING_INTERVAL_MS}, the rest at debug, so an outage does not flood the log. */
  #storeFailed(operation: string, key: string, error: unknown): void {
    this.#metrics?.storeFailures.inc({ component: 'cache' });
    const now = this.#clock.now();
    if (this.#lastWarningAt === undefined || now - this.#lastWarningAt >= FAILURE_WARNING_INTERVAL_MS) {
      this.#logger.warn(
        { err: error, operation, key, failuresSinceLastWarning: this.#failuresSinceWarning },
        'Response cache store failed; answering without it',
      );
      this.#lastWarningAt = now;
      this.#failuresSinceWarning = 0;
    } else {
      this.#failuresSinceWarning++;
      this.#logger.debug({ err: error, operation, key }, 'Response cache store failed; answering without it');
    }
  }
}

/** The flight's compute, bound to the flight's own cancellation. */
type Compute = () => Promise<ChatCompletion>;

function lookupResult(outcome: Outcome): 'hit' | 'miss' | 'shared' | 'error' {
  if (outcome.storeFailed) return 'error';
  if (outcome.source === 'store') return 'hit';
  return outcome.source === 'shared' ? 'shared' : 'miss';
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
