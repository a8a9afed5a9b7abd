import type { CallCancellation, CallSignal } from '../llm/call-signal.js';
import { DeadlineExceededError } from './errors.js';

/**
 * What every stage of one call needs to know to bound its waits. Whether the call was aborted,
 * and why, is for `callAborted` and `callAbortError` to say.
 */
export interface CallContext extends CallCancellation {
  /** The caller's cancellation (made on first read when the call has a {@link cancellation}): read it to wait for an abort. */
  readonly signal: AbortSignal | undefined;
  /** The running call, when the plan carries one: subscribe to it rather than read {@link signal}. */
  readonly cancellation?: CallSignal | undefined;
  /** When the call started, epoch ms. */
  startedAt: number;
  /** The whole-call budget, ms. */
  deadlineMs: number;
  /** `startedAt + deadlineMs`. */
  deadlineAt: number;
}

/** The error for a call whose deadline cuts a wait or an attempt short. */
export function deadlineError(
  context: CallContext,
  now: number,
  reason: string,
  cause?: unknown,
  retryAfterMs?: number,
): DeadlineExceededError {
  return new DeadlineExceededError({
    deadlineMs: context.deadlineMs,
    elapsedMs: now - context.startedAt,
    reason,
    ...(cause === undefined ? {} : { cause }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}
