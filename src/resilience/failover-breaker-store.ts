import type { BreakerDecision, BreakerSnapshot, BreakerStore, BreakerTransition } from './breaker-store.js';
import type { StoreFailover } from './store-failover.js';

/**
 * Shared circuits with a local fallback: when Redis fails, this process keeps its own circuits
 * until Redis answers again. Failures are logged and counted, never thrown at the caller.
 */
export class FailoverBreakerStore implements BreakerStore {
  readonly #shared: BreakerStore;
  readonly #local: BreakerStore;
  readonly #failover: StoreFailover;

  constructor(shared: BreakerStore, local: BreakerStore, failover: StoreFailover) {
    this.#shared = shared;
    this.#local = local;
    this.#failover = failover;
  }

  acquire(key: string, now: number): Promise<BreakerDecision> {
    return this.#run(now, (store) => store.acquire(key, now));
  }

  recordSuccess(key: string, now: number, probe: boolean): Promise<BreakerTransition | undefined> {
    return this.#run(now, (store) => store.recordSuccess(key, now, probe));
  }

  recordFailure(key: string, now: number, probe: boolean): Promise<BreakerTransition | undefined> {
    return this.#run(now, (store) => store.recordFailure(key, now, probe));
  }

  releaseProbe(key: string, now: number): Promise<void> {
    return this.#run(now, (store) => store.releaseProbe(key, now));
  }

  read(key: string, now: number): Promise<BreakerSnapshot> {
    return this.#run(now, (store) => store.read(key, now));
  }

  async #run<T>(now: number, operation: (store: BreakerStore) => Promise<T>): Promise<T> {
    if (this.#failover.usable(now)) {
      try {
        const result = await this.#failover.bounded(operation(this.#shared));
        this.#failover.succeeded();
        return result;
      } catch (error) {
        this.#failover.failed(error, now);
      }
    }
    return operation(this.#local);
  }
}
