import { setMaxListeners } from 'node:events';
import { GroundworkError } from '../errors/groundwork-error.js';
import { ProviderError } from '../errors/provider-errors.js';
import { linkSignals, sleep } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';
import {
  type AttemptInfo,
  type AttemptRecord,
  type AttemptResult,
  type CallOutcome,
  type CallPipeline,
  type CallPlan,
  type CallTarget,
  concludeAttempts,
} from '../llm/call-pipeline.js';
import { type CallSignal, callAbortError, callAborted, callSignalOf } from '../llm/call-signal.js';
import type { TokenUsage } from '../llm/types.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { runWithTimeout } from './attempt-timeout.js';
import type { BreakerDecision } from './breaker-store.js';
import type { CallContext } from './call-context.js';
import type { BreakerVerdict, CircuitBreaker, CircuitState } from './circuit-breaker.js';
import type { ConcurrencyLimiter } from './concurrency-limiter.js';
import { PipelineClosedError } from './errors.js';
import type { RateLimiter, RateLimitLevels } from './rate-limiter.js';
import { decideRetry, isOwnRefusal, type RetryRules } from './retry-decision.js';

/** The stages and settings a {@link ResiliencePipeline} composes. */
export interface ResiliencePipelineParts {
  breaker: CircuitBreaker;
  rateLimiter: RateLimiter;
  concurrency: ConcurrencyLimiter;
  retry: RetryRules;
  timeoutMs: number;
  deadlineMs: number;
  /** Whether token usage is limited (reservations are then reconciled). */
  limitsTokens: boolean;
  clock: Clock;
  logger: Logger;
  metrics: GroundworkMetrics | undefined;
}

/** One call's state, also the context every stage bounds its waits by. */
class CallRun implements CallContext {
  readonly records: AttemptRecord[] = [];
  /** The call's cancellation when its plan carries one: stages subscribe to it rather than to {@link signal}. */
  readonly cancellation: CallSignal | undefined;
  /** Backoff slept before the current attempt, ms. */
  backoffMs = 0;
  /** Waited for a rate-limit permit and a concurrency slot in the current attempt, ms. */
  waitedMs = 0;
  /** Whether the current attempt was sent to the provider. */
  sent = false;
  /** The error of the call's last attempt that was sent and failed. */
  sentError: unknown;
  readonly #plan: CallPlan;
  constructor(
    plan: CallPlan,
    readonly startedAt: number,
    readonly deadlineMs: number,
    readonly deadlineAt: number,
  ) {
    this.#plan = plan;
    this.cancellation = callSignalOf(plan);
  }

  /** The caller's signal; read only by the stages that wait (a call's own signal is made on first read). */
  get signal(): AbortSignal | undefined {
    return this.#plan.signal;
  }
}

export { attemptsOf } from '../llm/call-pipeline.js';

/** The code a failed attempt is counted under: a Groundwork error's code, else the error's name. */
export const codeOf = (error: unknown): string =>
  GroundworkError.isInstance(error) ? error.code : error instanceof Error ? error.name : 'unknown';

/** What a failed attempt tells a breaker about its provider's health. */
export const verdictOf = (error: unknown): BreakerVerdict =>
  ProviderError.isInstance(error) ? (error.countsAgainstProviderHealth ? 'failure' : 'answered') : 'abandoned';

/** Whether an attempt's usage is still to come (a stream's). */
export const isPromise = (usage: AttemptResult<unknown>['usage']): usage is Promise<TokenUsage | undefined> =>
  typeof (usage as Promise<unknown> | undefined)?.then === 'function';

/**
 * The resilience stack, outermost first: fallback chain → retry with backoff and deadline →
 * circuit breaker → rate limit → concurrency limit → per-attempt timeout → attempt.
 */
export class ResiliencePipeline implements CallPipeline {
  readonly #parts: ResiliencePipelineParts;
  readonly #closing = new AbortController();

  constructor(parts: ResiliencePipelineParts) {
    this.#parts = parts;
    // Every call sleeping before a retry listens to it (and stops when it wakes).
    setMaxListeners(0, this.#closing.signal);
  }

  async execute<T>(plan: CallPlan, attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>): Promise<CallOutcome<T>> {
    if (this.#closing.signal.aborted) throw new PipelineClosedError();
    if (plan.targets.length === 0) throw new TypeError('A call needs at least one target');
    const { clock, retry } = this.#parts;
    const startedAt = clock.now();
    const deadlineAt = Math.min(startedAt + this.#parts.deadlineMs, plan.deadlineAt ?? Number.POSITIVE_INFINITY);
    // A tool loop's later turn keeps the call's deadline, which began `deadlineMs` before its
    // `deadlineAt`: an error then names the whole deadline and the time since the call began.
    const callStartedAt = plan.deadlineAt === undefined ? startedAt : Math.min(startedAt, plan.deadlineAt - this.#parts.deadlineMs);
    const run = new CallRun(plan, callStartedAt, deadlineAt - callStartedAt, deadlineAt);
    if (callAborted(run)) throw callAbortError(run);
    let lastError: unknown;
    for (const target of plan.targets) {
      // A model outside the known set (see `KnownModels`) shares the breaker and buckets of `other`;
      // the attempt itself is sent to the model named.
      const guarded = this.#guarded(target);
      const key = `${guarded.provider}:${guarded.model}`;
      run.backoffMs = 0;
      for (let number = 1; ; number++) {
        const began = clock.now();
        run.waitedMs = 0;
        try {
          const result = await this.#attemptOnce(target, guarded, key, number, plan.estimatedTokens, run, attempt);
          this.#record(run, target, number, began, undefined);
          return { value: result.value, target, attempts: run.records };
        } catch (error) {
          this.#record(run, target, number, began, error);
          if (run.sent) run.sentError = error;
          const now = clock.now();
          const decision = decideRetry(error, target, number, now, run, retry);
          if (decision.kind === 'fail') throw this.#withAttempts(decision.error, run);
          if (decision.kind === 'next') {
            lastError = decision.error;
            break;
          }
          this.#parts.metrics?.llmRetries.inc({ provider: guarded.provider, model: guarded.model, reason: codeOf(error) });
          const wake = linkSignals(plan.signal, this.#closing.signal);
          try {
            await sleep(decision.waitMs, wake.signal, clock);
          } finally {
            wake.dispose();
          }
          run.backoffMs = decision.waitMs;
        }
      }
    }
    throw this.#withAttempts(this.#callError(lastError, run), run);
  }

  /**
   * The error a call that ran out of targets fails with: `error`, unless it is one of Groundwork's
   * own refusals (circuit open, rate limit, queue) and an earlier attempt of the call was sent.
   * Then the provider's answer to that attempt is the call's error, the refusal named in its
   * message: a request was sent and failed, and the refusal only kept it from being retried.
   */
  #callError(error: unknown, run: CallRun): unknown {
    const sent = run.sentError;
    if (!(sent instanceof Error) || sent === error || !isOwnRefusal(error)) return error;
    sent.message = `${sent.message.replace(/\.?$/, '.')} Not retried: ${(error as Error).message}`;
    // A provider that named no wait: the refusal's (the circuit's reset) is when trying again can help.
    const refusalWait = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if ((sent as { retryAfterMs?: unknown }).retryAfterMs === undefined && typeof refusalWait === 'number') {
      (sent as { retryAfterMs?: number }).retryAfterMs = refusalWait;
    }
    return sent;
  }

  /**
   * Refuses callers still waiting for a permit, a slot or a backoff, those whose admission is being
   * read, and every call made after, with {@link PipelineClosedError}; calls already sent run to
   * their end. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new PipelineClosedError());
    this.#parts.rateLimiter.close();
    this.#parts.concurrency.close();
  }

  /** Every circuit this process has used, for health reports. */
  breakerStates(): Promise<CircuitState[]> {
    return this.#parts.breaker.snapshot();
  }

  /** The rate-limit buckets and permit line of `provider`/`model` (see {@link RateLimiter.levels}). Reads only. */
  rateLimitLevels(provider: string, model: string): Promise<RateLimitLevels | undefined> {
    return this.#parts.rateLimiter.levels(provider, model);
  }

  /** Per provider: calls in flight, callers waiting for a concurrency slot, and the slots. Reads only. */
  concurrency(): Array<{ provider: string; active: number; waiting: number; maxConcurrent: number }> {
    return this.#parts.concurrency.snapshot();
  }

  /** One circuit's state. */
  getState(provider: string, model: string): Promise<CircuitState> {
    return this.#parts.breaker.getState(provider, model);
  }

  /** `target`, its model folded as metrics label it: the breaker and rate-limit buckets it is kept under. */
  #guarded(target: CallTarget): CallTarget {
    const models = this.#parts.metrics?.models;
    if (models === undefined || !models.restricted) return target;
    const model = models.label(target.model);
    return model === target.model ? target : { ...target, model };
  }

  /**
   * Breaker → rate limit → concurrency → timeout → attempt, for one attempt on `target`; the breaker
   * and rate limit see `guarded` (the target under its folded model), the attempt `target`.
   */
  async #attemptOnce<T>(
    target: CallTarget,
    guarded: CallTarget,
    key: string,
    number: number,
    tokens: number,
    run: CallRun,
    attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>,
  ): Promise<AttemptResult<T>> {
    const { breaker, rateLimiter, concurrency, clock } = this.#parts;
    run.sent = false;
    const decision = await breaker.acquire(guarded, key);
    let verdict: BreakerVerdict = 'abandoned';
    let permitted = false;
    try {
      run.waitedMs += await rateLimiter.acquire(guarded, tokens, run);
      permitted = true;
      if (!concurrency.tryAcquire(target.provider)) run.waitedMs += await concurrency.wait(target.provider, run);
      if (this.#closing.signal.aborted) {
        // Closed while the stores answered the admission: the call is not sent, and its slot and token
        // reservation go back (below), as does a test request.
        concurrency.release(target.provider);
        throw new PipelineClosedError();
      }
      run.sent = true;
      let result: AttemptResult<T>;
      try {
        result = await runWithTimeout(attempt, target, number, run, this.#parts.timeoutMs, clock);
      } catch (error) {
        concurrency.release(target.provider);
        verdict = verdictOf(error);
        throw error;
      }
      verdict = 'success';
      this.#afterUsage(guarded, tokens, result.usage);
      return result;
    } catch (error) {
      // The provider did not answer: give the token reservation back (the request permit stays spent).
      if (permitted && this.#parts.limitsTokens) this.#reconcile(guarded, tokens, 0);
      throw error;
    } finally {
      if (verdict !== 'success' || breaker.mustRecordSuccess(key, decision)) this.#settle(guarded, key, decision, verdict);
    }
  }

  /** Releases the slot and reconciles the reservation once usage is known (a stream: when it ends). */
  #afterUsage(target: CallTarget, tokens: number, usage: AttemptResult<unknown>['usage']): void {
    const { concurrency } = this.#parts;
    if (!isPromise(usage)) {
      concurrency.release(target.provider);
      if (this.#parts.limitsTokens && usage !== undefined) this.#reconcile(target, tokens, usage.totalTokens);
      return;
    }
    usage.then(
      (known) => {
        concurrency.release(target.provider);
        if (this.#parts.limitsTokens && known !== undefined) this.#reconcile(target, tokens, known.totalTokens);
      },
      () => concurrency.release(target.provider),
    );
  }

  #reconcile(target: CallTarget, reserved: number, used: number): void {
    this.#parts.rateLimiter.reconcile(target, reserved, used).catch((error: unknown) => {
      this.#parts.logger.warn({ err: error, provider: target.provider, model: target.model }, 'Could not reconcile the token reservation');
    });
  }

  #settle(target: CallTarget, key: string, decision: BreakerDecision, verdict: BreakerVerdict): void {
    this.#parts.breaker.settle(target, key, decision, verdict).catch((error: unknown) => {
      this.#parts.logger.warn(
        { err: error, provider: target.provider, model: target.model },
        'Could not record the circuit breaker outcome',
      );
    });
  }

  #record(run: CallRun, target: CallTarget, number: number, began: number, error: unknown): void {
    const latencyMs = this.#parts.clock.now() - began - run.waitedMs;
    const record: AttemptRecord = {
      provider: target.provider,
      model: target.model,
      attempt: number,
      outcome: error === undefined ? 'success' : run.sent ? 'error' : 'skipped',
      latencyMs: Math.max(latencyMs, 0),
    };
    if (error !== undefined) record.errorCode = codeOf(error);
    const waitedMs = run.backoffMs + run.waitedMs;
    if (waitedMs > 0) record.waitedMs = waitedMs;
    run.records.push(record);
  }

  #withAttempts(error: unknown, run: CallRun): unknown {
    return concludeAttempts(error, run.records, true);
  }
}
