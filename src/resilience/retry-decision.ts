import { GroundworkError } from '../errors/groundwork-error.js';
import { ProviderError } from '../errors/provider-errors.js';
import type { CallTarget } from '../llm/call-pipeline.js';
import { callAborted } from '../llm/call-signal.js';
import { backoffDelay } from './backoff.js';
import { type CallContext, deadlineError } from './call-context.js';
import {
  CircuitOpenError,
  QueueFullError,
  QueueTimeoutError,
  RateLimitExceededError,
  RateLimitStoreUnavailableError,
  RetryAfterTooLongError,
} from './errors.js';

/** The retry settings. */
export interface RetryRules {
  maxAttempts: number;
  minMs: number;
  maxMs: number;
  retryAfterMaxMs: number;
  random: () => number;
}

/** What to do after a failed attempt. */
export type RetryDecision =
  /** Try the same target again after `waitMs`. */
  | { kind: 'retry'; waitMs: number }
  /** Give this target up and go on to the next one; `error` is what to throw if there is none. */
  | { kind: 'next'; error: unknown }
  /** Fail the whole call with `error`. */
  | { kind: 'fail'; error: unknown };

/** Groundwork's own refusals: waiting longer on the same target will not help, another target may. */
export const isOwnRefusal = (error: unknown): boolean =>
  error instanceof CircuitOpenError ||
  error instanceof RateLimitExceededError ||
  error instanceof QueueFullError ||
  error instanceof QueueTimeoutError ||
  error instanceof RateLimitStoreUnavailableError;

/**
 * Decides the fate of a failed attempt: only retryable errors are retried, at most
 * `maxAttempts` times per target; the provider's `retryAfterMs` is obeyed up to `retryAfterMaxMs`
 * ({@link RetryAfterTooLongError} beyond) and never waited less than `minMs`; no wait starts that cannot finish before the deadline.
 */
export function decideRetry(
  error: unknown,
  target: CallTarget,
  attempt: number,
  now: number,
  context: CallContext,
  rules: RetryRules,
): RetryDecision {
  if (callAborted(context)) return { kind: 'fail', error };
  if (isOwnRefusal(error)) return { kind: 'next', error };
  if (!GroundworkError.isInstance(error) || !error.retryable) return { kind: 'fail', error };
  const retryAfterMs = ProviderError.isInstance(error) ? error.retryAfterMs : undefined;
  if (retryAfterMs !== undefined && retryAfterMs > rules.retryAfterMaxMs) {
    const tooLong = new RetryAfterTooLongError({ ...target, retryAfterMs, maxRetryAfterMs: rules.retryAfterMaxMs, now, cause: error });
    return { kind: 'next', error: tooLong };
  }
  if (attempt >= rules.maxAttempts) return { kind: 'next', error };
  // A Retry-After shorter than the shortest backoff (0 included) is raised to it: a throttled provider is not asked again in the same instant.
  const waitMs =
    retryAfterMs === undefined ? backoffDelay(attempt, rules.minMs, rules.maxMs, rules.random) : Math.max(retryAfterMs, rules.minMs);
  if (now + waitMs >= context.deadlineAt) {
    return {
      kind: 'next',
      error: deadlineError(context, now, `would pass before the next attempt (in ${waitMs} ms)`, error, retryAfterMs),
    };
  }
  return { kind: 'retry', waitMs };
}
