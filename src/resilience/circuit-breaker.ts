import type { Clock } from '../internal/clock.js';
import type { CallTarget } from '../llm/call-pipeline.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { BreakerDecision, BreakerSnapshot, BreakerStateName, BreakerStore, BreakerTransition } from './breaker-store.js';
import { CircuitOpenError } from './errors.js';

/** How an attempt ended, as far as the provider's health goes. */
export type BreakerVerdict = 'success' | 'failure' | 'answered' | 'abandoned';

/** A circuit's state for health reports. */
export interface CircuitState extends BreakerSnapshot {
  provider: string;
  model: string;
}

const GAUGE: Record<BreakerStateName, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * The circuit-breaker stage, per provider and model. A refused call fails at once with
 * {@link CircuitOpenError} and nothing reaches the provider. Transitions are logged, counted and
 * set on the state gauge; the gauge also follows the state each decision shows, so that with a
 * shared (Redis) store a process reports a circuit another process closed or opened.
 */
export class CircuitBreaker {
  readonly #store: BreakerStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: GroundworkMetrics | undefined;
  readonly #resetMs: number;
  readonly #known = new Map<string, CallTarget>();
  /** The gauge's value last set per circuit: it is set again only when a decision shows another state. */
  readonly #reported = new Map<string, number>();
  /**
   * Per circuit: the failures this process recorded since it last recorded a success. While there
   * are any, a success must reach the store to reset the count, whatever the count was when its
   * call was admitted; without, a healthy circuit's successes cost no store round trip.
   */
  readonly #unreset = new Map<string, number>();

  constructor(options: { store: BreakerStore; clock: Clock; logger: Logger; metrics?: GroundworkMetrics | undefined; resetMs: number }) {
    this.#resetMs = options.resetMs;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  /** Lets a request to `target` go, or throws {@link CircuitOpenError}. */
  async acquire(target: CallTarget, key: string): Promise<BreakerDecision> {
    if (!this.#known.has(key)) this.#known.set(key, { provider: target.provider, model: target.model });
    const now = this.#clock.now();
    const decision = await this.#store.acquire(key, now);
    if (decision.transition !== undefined) this.#transitioned(target, key, decision.transition, decision.failures, now);
    // Allowed and not the test request: closed. The test request, or refused while it runs: half-open. Else open.
    this.#report(target, key, decision.probe ? GAUGE.half_open : decision.allowed ? GAUGE.closed : GAUGE.open);
    if (decision.allowed) return decision;
    throw new CircuitOpenError({ provider: target.provider, model: target.model, retryAt: decision.retryAt, now, probing: decision.probe });
  }

  /**
   * Records how an allowed request ended: `failure` (the provider is unhealthy) counts,
   * `answered` (the provider refused the request itself) counts as proof of life for a test
   * request only, `abandoned` hands the test request to the next caller.
   */
  async settle(target: CallTarget, key: string, decision: BreakerDecision, verdict: BreakerVerdict): Promise<void> {
    const now = this.#clock.now();
    let transition: BreakerTransition | undefined;
    if (verdict === 'failure') {
      this.#unreset.set(key, (this.#unreset.get(key) ?? 0) + 1);
      transition = await this.#store.recordFailure(key, now, decision.probe);
    } else if (verdict === 'success' || (verdict === 'answered' && decision.probe)) {
      if (this.mustRecordSuccess(key, decision)) {
        const seen = this.#unreset.get(key);
        transition = await this.#store.recordSuccess(key, now, decision.probe);
        // A failure recorded while the success was on its way stays to be reset by the next one.
        if (this.#unreset.get(key) === seen) this.#unreset.delete(key);
      }
    } else if (verdict === 'abandoned' && decision.probe) {
      // No change of state: the circuit stays half-open for the next caller to test, at once.
      await this.#store.releaseProbe(key, now);
      this.#logger.debug(
        { provider: target.provider, model: target.model },
        `Circuit for ${target.provider}/${target.model}: the test request ended unsent or unanswered; the next call tests the provider`,
      );
    }
    if (transition !== undefined) this.#transitioned(target, key, transition, decision.failures + (verdict === 'failure' ? 1 : 0), now);
  }

  /**
   * Whether a success of a call admitted with `decision` must be recorded (by {@link settle}):
   * it is the test request, failures were counted when it was admitted, or this process has
   * recorded a failure since its last recorded success (calls in flight together end in any
   * order, and only consecutive failures may open the circuit). Synchronous and allocation-free,
   * so callers can skip {@link settle} for the successes of a healthy circuit.
   */
  mustRecordSuccess(key: string, decision: BreakerDecision): boolean {
    return decision.probe || decision.failures > 0 || this.#unreset.has(key);
  }

  #report(target: CallTarget, key: string, value: number): void {
    if (this.#metrics === undefined || this.#reported.get(key) === value) return;
    this.#reported.set(key, value);
    this.#metrics.breakerState.set({ provider: target.provider, model: target.model }, value);
  }

  /** The state of one circuit. */
  async getState(provider: string, model: string): Promise<CircuitState> {
    return { provider, model, ...(await this.#store.read(`${provider}:${model}`, this.#clock.now())) };
  }

  /** Every circuit this process has used, for health reports: each read under the key it was acquired with. */
  async snapshot(): Promise<CircuitState[]> {
    const now = this.#clock.now();
    return Promise.all(
      [...this.#known].map(async ([key, { provider, model }]) => ({ provider, model, ...(await this.#store.read(key, now)) })),
    );
  }

  #transitioned(target: CallTarget, key: string, transition: BreakerTransition, failures: number, now: number): void {
    const { provider, model } = target;
    this.#report(target, key, GAUGE[transition.to]);
    this.#metrics?.breakerTransitions.inc({ provider, model, to: transition.to });
    const fields = { provider, model, from: transition.from, to: transition.to, consecutiveFailures: failures };
    if (transition.to === 'open') {
      this.#logger.warn(
        fields,
        `Circuit for ${provider}/${model} opened; calls fail fast until a test request at ${new Date(now + this.#resetMs).toISOString()}`,
      );
    } else if (transition.to === 'half_open') {
      this.#logger.info(fields, `Circuit for ${provider}/${model} is half-open; one test request goes through`);
    } else {
      this.#logger.info(fields, `Circuit for ${provider}/${model} closed; the provider answers again`);
    }
  }
}
