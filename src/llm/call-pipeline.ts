import type { LlmProviderName } from '../config/variables.js';
import type { TokenUsage } from './types.js';

/** A provider and model a call may go to. */
export interface CallTarget {
  provider: LlmProviderName;
  model: string;
  /** The model group this target belongs to (routed by `routing/`), if any. */
  group?: string;
  /** The deployment of that group, named in the ledger, metrics and spans. */
  deployment?: string;
}

/** What one attempt is told. */
export interface AttemptInfo {
  target: CallTarget;
  /** 1 for the first attempt on this target. */
  attempt: number;
  /** Aborts on the per-attempt timeout, the deadline or the caller's signal. */
  signal: AbortSignal;
}

/** What one attempt gives back. */
export interface AttemptResult<T> {
  value: T;
  /**
   * The real usage, to reconcile the token reservation with. A promise when it is known only
   * later (a stream): the attempt's concurrency slot is held until it settles.
   */
  usage?: TokenUsage | Promise<TokenUsage | undefined>;
}

/** One attempt as it happened, for `metadata.attempts`. */
export interface AttemptRecord {
  provider: LlmProviderName;
  model: string;
  /** The deployment of a model group the attempt went to. */
  deployment?: string;
  attempt: number;
  outcome: 'success' | 'error' | 'skipped';
  /** The error's `code` when it failed or was skipped (e.g. `circuit_open`). */
  errorCode?: string;
  latencyMs: number;
  /** Time spent waiting before this attempt (backoff, rate limit, queue), in ms. */
  waitedMs?: number;
}

/** The plan of one call. */
export interface CallPlan {
  /** The primary target first, then the fallbacks in order. */
  targets: CallTarget[];
  /** Tokens to reserve against the tokens-per-minute limit (prompt estimate plus max tokens). */
  estimatedTokens: number;
  /** The caller's cancellation. It may be made when first read: read it from the plan rather than from a copy of it. */
  signal?: AbortSignal;
  /** When the whole call must be over (a tool loop's later turns), on the pipeline's clock; the earlier of this and the pipeline's own deadline wins. */
  deadlineAt?: number;
}

/** What a call produced and how. */
export interface CallOutcome<T> {
  value: T;
  /** The target that answered. */
  target: CallTarget;
  attempts: AttemptRecord[];
}

/**
 * The resilience stack around provider attempts: fallback chain → retry with backoff and
 * deadline → circuit breaker → rate limit → concurrency limit → per-attempt timeout.
 */
export interface CallPipeline {
  execute<T>(plan: CallPlan, attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>): Promise<CallOutcome<T>>;
  /** Stops timers and releases stores. */
  close?(): Promise<void>;
}

/** A pipeline that runs exactly one attempt on the first target: no retries, limits or fallbacks. */
export const directPipeline: CallPipeline = {
  async execute(plan, attempt) {
    const target = plan.targets[0];
    if (target === undefined) throw new Error('A call needs at least one target');
    const started = performance.now();
    const result = await attempt({ target, attempt: 1, signal: plan.signal ?? new AbortController().signal });
    return {
      value: result.value,
      target,
      attempts: [{ ...target, attempt: 1, outcome: 'success', latencyMs: performance.now() - started }],
    };
  },
};

const attemptsByError = new WeakMap<object, AttemptRecord[]>();

/** Remembers the attempts a failed call made, for {@link attemptsOf}. @internal */
export function rememberAttempts(error: unknown, attempts: AttemptRecord[]): void {
  if (typeof error === 'object' && error !== null) attemptsByError.set(error, attempts);
}

/**
 * Ends a failed call's error: remembers its attempts and, with `say`, when more than one was sent,
 * says so in its message, once ("(gave up after N attempts)"): the error was made while another
 * attempt was still possible. @internal
 */
export function concludeAttempts(error: unknown, attempts: AttemptRecord[], say: boolean): unknown {
  rememberAttempts(error, attempts);
  const sent = attempts.filter((record) => record.outcome !== 'skipped').length;
  if (say && error instanceof Error && sent > 1 && !error.message.includes(' attempts)'))
    error.message += ` (gave up after ${sent} attempts)`;
  return error;
}

/** The attempts a failed call made, for logs and error metadata. */
export function attemptsOf(error: unknown): AttemptRecord[] | undefined {
  return typeof error === 'object' && error !== null ? attemptsByError.get(error) : undefined;
}
