import { ProviderTimeoutError } from '../errors/provider-errors.js';
import { abortReason } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';
import type { AttemptInfo, AttemptResult, CallTarget } from '../llm/call-pipeline.js';
import { type CallContext, deadlineError } from './call-context.js';

/**
 * Runs one attempt with its own `AbortSignal`, aborted after `timeoutMs` (or sooner, at the
 * call's deadline) or when the caller aborts. The attempt's promise is settled at that moment
 * even if the attempt ignores its signal; the timer and listener are removed either way.
 *
 * A timeout fails with a retryable `ProviderTimeoutError`; the deadline with `DeadlineExceededError`.
 */
export function runWithTimeout<T>(
  attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>,
  target: CallTarget,
  attemptNumber: number,
  context: CallContext,
  timeoutMs: number,
  clock: Clock,
): Promise<AttemptResult<T>> {
  const now = clock.now();
  const remaining = context.deadlineAt - now;
  const byDeadline = remaining < timeoutMs;
  if (remaining <= 0) return Promise.reject(deadlineError(context, now, 'passed before the attempt started'));
  const callerSignal = context.signal;
  if (callerSignal?.aborted === true) return Promise.reject(abortReason(callerSignal));
  const controller = new AbortController();
  return new Promise<AttemptResult<T>>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
      return true;
    };
    const onCallerAbort = (): void => {
      if (!finish()) return;
      const reason = abortReason(callerSignal as AbortSignal);
      controller.abort(reason);
      reject(reason);
    };
    const limitMs = byDeadline ? remaining : timeoutMs;
    const timer = clock.setTimeout(() => {
      if (!finish()) return;
      const error = byDeadline
        ? deadlineError(context, clock.now(), 'passed during an attempt')
        : new ProviderTimeoutError(`no answer within ${limitMs} ms (LLM_TIMEOUT_MS)`, { provider: target.provider, model: target.model });
      controller.abort(error);
      reject(error);
    }, limitMs);
    callerSignal?.addEventListener('abort', onCallerAbort);
    let pending: Promise<AttemptResult<T>>;
    try {
      pending = attempt({ target, attempt: attemptNumber, signal: controller.signal });
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (result) => {
        if (finish()) resolve(result);
      },
      (error: unknown) => {
        if (finish()) reject(error);
      },
    );
  });
}
