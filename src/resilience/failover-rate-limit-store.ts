import { RateLimitStoreUnavailableError } from './errors.js';
import type { BucketLevels, RateLimitStore, TakeResult } from './rate-limit-store.js';
import type { StoreFailover } from './store-failover.js';

/**
 * A shared store with a plan for when it fails: `local` answers from this process's own
 * buckets (built with the limit divided by the expected replicas, starting empty at each outage),
 * `refuse` fails the call with
 * {@link RateLimitStoreUnavailableError}. Either way the failure is logged and counted.
 */
export class FailoverRateLimitStore implements RateLimitStore {
  readonly #shared: RateLimitStore;
  readonly #local: RateLimitStore | undefined;
  readonly #failover: StoreFailover;
  /** Whether calls are being admitted from the local share (an outage is under way). */
  #onLocal = false;

  /** `local` undefined means refuse. */
  constructor(shared: RateLimitStore, local: RateLimitStore | undefined, failover: StoreFailover) {
    this.#shared = shared;
    this.#local = local;
    this.#failover = failover;
  }

  async take(key: string, tokens: number, now: number): Promise<TakeResult> {
    if (this.#failover.usable(now)) {
      try {
        const result = await this.#failover.bounded(this.#shared.take(key, tokens, now));
        this.#failover.succeeded();
        this.#onLocal = false;
        return result;
      } catch (error) {
        this.#failover.failed(error, now);
      }
    }
    return this.#fallback(now).take(key, tokens, now);
  }

  /**
   * The levels of the store admitting calls now. When the shared store is to be tried (as a take
   * would try it), it is asked; its answer ends a local-share outage, as a take's would. A shared
   * store known to be down is not asked: the local share answers, or without one the call is
   * refused with {@link RateLimitStoreUnavailableError}, as a take would be.
   *
   * A peek only reads, so its failure does not mark the shared store down for the calls being
   * admitted: during an outage it answers the local share, otherwise the error is thrown.
   */
  async peek(key: string, now: number): Promise<BucketLevels> {
    if (this.#failover.usable(now)) {
      if (this.#shared.peek === undefined) throw new TypeError('This rate-limit store cannot report its levels');
      try {
        const levels = await this.#failover.bounded(this.#shared.peek(key, now));
        this.#failover.succeeded();
        this.#onLocal = false;
        return levels;
      } catch (error) {
        if (!this.#onLocal) throw error;
      }
    }
    const local = this.#fallback(now);
    if (local.peek === undefined) throw new TypeError('This rate-limit store cannot report its levels');
    return local.peek(key, now);
  }

  /** The local share, once the shared store has failed (reset at the start of each outage); without one, the refusal. */
  #fallback(now: number): RateLimitStore {
    if (this.#local === undefined) {
      throw new RateLimitStoreUnavailableError({ retryAfterMs: this.#failover.retryInMs(now), cause: this.#failover.lastError });
    }
    if (!this.#onLocal) {
      // A new outage: the local share starts empty and fills at its pro-rated rate, never with a burst.
      this.#onLocal = true;
      this.#local.reset?.();
    }
    return this.#local;
  }

  async adjustTokens(key: string, tokens: number, now: number): Promise<void> {
    if (this.#failover.usable(now)) {
      try {
        await this.#failover.bounded(this.#shared.adjustTokens(key, tokens, now));
        this.#failover.succeeded();
        return;
      } catch (error) {
        this.#failover.failed(error, now);
      }
    }
    await this.#local?.adjustTokens(key, tokens, now);
  }
}
