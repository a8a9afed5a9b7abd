import {
  type BreakerDecision,
  type BreakerRules,
  type BreakerSnapshot,
  type BreakerStateName,
  type BreakerStore,
  type BreakerTransition,
  PASS,
} from './breaker-store.js';

interface Circuit {
  state: BreakerStateName;
  failures: number;
  openedAt: number;
  probeAt: number;
}

const CLOSED_TO_OPEN: BreakerTransition = Object.freeze({ from: 'closed', to: 'open' });
const OPEN_TO_HALF: BreakerTransition = Object.freeze({ from: 'open', to: 'half_open' });
const HALF_TO_OPEN: BreakerTransition = Object.freeze({ from: 'half_open', to: 'open' });
const HALF_TO_CLOSED: BreakerTransition = Object.freeze({ from: 'half_open', to: 'closed' });

/** Circuits in this process: synchronous underneath, no timers. */
export class MemoryBreakerStore implements BreakerStore {
  readonly #rules: BreakerRules;
  readonly #circuits = new Map<string, Circuit>();

  constructor(rules: BreakerRules) {
    this.#rules = rules;
  }

  /** Synchronous {@link BreakerStore.acquire}. */
  acquireNow(key: string, now: number): BreakerDecision {
    const circuit = this.#circuits.get(key);
    if (circuit === undefined || (circuit.state === 'closed' && circuit.failures === 0)) return PASS;
    if (circuit.state === 'closed') return { allowed: true, probe: false, retryAt: 0, failures: circuit.failures, transition: undefined };
    const since = circuit.state === 'open' ? circuit.openedAt : circuit.probeAt;
    if (now < since + this.#rules.resetMs) {
      return {
        allowed: false,
        probe: circuit.state === 'half_open',
        retryAt: since + this.#rules.resetMs,
        failures: circuit.failures,
        transition: undefined,
      };
    }
    const transition = circuit.state === 'open' ? OPEN_TO_HALF : undefined;
    circuit.state = 'half_open';
    circuit.probeAt = now;
    return { allowed: true, probe: true, retryAt: 0, failures: circuit.failures, transition };
  }

  acquire(key: string, now: number): Promise<BreakerDecision> {
    return Promise.resolve(this.acquireNow(key, now));
  }

  /** Synchronous {@link BreakerStore.recordSuccess}. */
  recordSuccessNow(key: string, probe: boolean): BreakerTransition | undefined {
    const circuit = this.#circuits.get(key);
    if (circuit === undefined) return undefined;
    if (circuit.state === 'closed') {
      circuit.failures = 0;
      return undefined;
    }
    if (!probe || circuit.state !== 'half_open') return undefined;
    circuit.state = 'closed';
    circuit.failures = 0;
    return HALF_TO_CLOSED;
  }

  recordSuccess(key: string, _now: number, probe: boolean): Promise<BreakerTransition | undefined> {
    return Promise.resolve(this.recordSuccessNow(key, probe));
  }

  /** Synchronous {@link BreakerStore.recordFailure}. */
  recordFailureNow(key: string, now: number, probe: boolean): BreakerTransition | undefined {
    let circuit = this.#circuits.get(key);
    if (circuit === undefined) {
      circuit = { state: 'closed', failures: 0, openedAt: 0, probeAt: 0 };
      this.#circuits.set(key, circuit);
    }
    if (circuit.state === 'closed') {
      circuit.failures++;
      if (circuit.failures < this.#rules.failureThreshold) return undefined;
      circuit.state = 'open';
      circuit.openedAt = now;
      return CLOSED_TO_OPEN;
    }
    if (!probe || circuit.state !== 'half_open') return undefined;
    circuit.failures++;
    circuit.state = 'open';
    circuit.openedAt = now;
    return HALF_TO_OPEN;
  }

  recordFailure(key: string, now: number, probe: boolean): Promise<BreakerTransition | undefined> {
    return Promise.resolve(this.recordFailureNow(key, now, probe));
  }

  releaseProbe(key: string, now: number): Promise<void> {
    const circuit = this.#circuits.get(key);
    if (circuit?.state === 'half_open') circuit.probeAt = now - this.#rules.resetMs;
    return Promise.resolve();
  }

  read(key: string): Promise<BreakerSnapshot> {
    const circuit = this.#circuits.get(key);
    if (circuit === undefined || circuit.state === 'closed') {
      return Promise.resolve({ state: 'closed', consecutiveFailures: circuit?.failures ?? 0, openedAt: undefined, retryAt: undefined });
    }
    const since = circuit.state === 'open' ? circuit.openedAt : circuit.probeAt;
    return Promise.resolve({
      state: circuit.state,
      consecutiveFailures: circuit.failures,
      openedAt: circuit.openedAt,
      retryAt: since + this.#rules.resetMs,
    });
  }
}
