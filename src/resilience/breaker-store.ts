/** A circuit's state: `half_open` while a single test request is in flight. */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

/** The breaker's settings, the same for every provider and model. */
export interface BreakerRules {
  /** Consecutive unhealthy failures that open the circuit. */
  failureThreshold: number;
  /** Time an open circuit waits before one test request, in ms; also the test request's lease. */
  resetMs: number;
}

/** A change of state, to log and count. */
export interface BreakerTransition {
  from: BreakerStateName;
  to: BreakerStateName;
}

/** Whether a request may go, as {@link BreakerStore.acquire} answers. */
export interface BreakerDecision {
  allowed: boolean;
  /** True for the one test request of a half-open circuit. */
  probe: boolean;
  /** When refused: when a test request will be let through, epoch ms. */
  retryAt: number;
  /** Consecutive unhealthy failures counted so far. */
  failures: number;
  /** Set when this decision changed the state (open → half-open). */
  transition: BreakerTransition | undefined;
}

/** A circuit as health reports show it. */
export interface BreakerSnapshot {
  state: BreakerStateName;
  consecutiveFailures: number;
  /** When the circuit last opened, epoch ms. */
  openedAt: number | undefined;
  /** When an open circuit lets its test request through, epoch ms. */
  retryAt: number | undefined;
}

/** The one "go ahead" answer of a healthy circuit, shared so the hot path allocates nothing. */
export const PASS: BreakerDecision = Object.freeze({ allowed: true, probe: false, retryAt: 0, failures: 0, transition: undefined });

/**
 * Where circuit state lives: in this process or shared (Redis). Every method is atomic per key,
 * so exactly one caller in the whole fleet wins the half-open test request.
 */
export interface BreakerStore {
  /** Closed: go. Open past `resetMs`: this caller gets the one test request. Otherwise: refused. */
  acquire(key: string, now: number): Promise<BreakerDecision>;
  /** A request succeeded: resets the count; the test request closes the circuit. */
  recordSuccess(key: string, now: number, probe: boolean): Promise<BreakerTransition | undefined>;
  /** An unhealthy failure: counts it, opens at the threshold; a failed test request re-opens. */
  recordFailure(key: string, now: number, probe: boolean): Promise<BreakerTransition | undefined>;
  /**
   * The test request ended without a verdict (it was not sent, or the caller gave up): the next
   * caller may test at once. The circuit stays half-open, its test request's lease ended: handing
   * it back is no change of state, and the circuit did not open again.
   */
  releaseProbe(key: string, now: number): Promise<void>;
  read(key: string, now: number): Promise<BreakerSnapshot>;
}
