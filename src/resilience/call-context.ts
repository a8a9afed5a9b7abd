import { DeadlineExceededError } from './errors.js';

/** What every stage of one call needs to know to bound its waits. */
export interface CallContext {
  /** The caller's cancellation. */
  signal: AbortSignal | undefined;
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
