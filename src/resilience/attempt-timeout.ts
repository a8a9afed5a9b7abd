import { ProviderTimeoutError } from '../errors/provider-errors.js';
import type { Clock } from '../internal/clock.js';
import type { AttemptInfo, AttemptResult, CallTarget } from '../llm/call-pipeline.js';
import { callAbortError, callAborted } from '../llm/call-signal.js';
import { type CallContext, deadlineError } from './call-context.js';

/**
 * What an attempt is told. Its signal is created on first read: an `AbortController` with a
 * listened-to signal costs microseconds, and an attempt that never looks at it need not pay.
 */
class AttemptHandle implements AttemptInfo {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  constructor(
    readonly target: CallTarget,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Hands out `controller`'s signal and aborts it with the attempt, unless a signal was already made. */
  adopt(controller: AbortController): boolean {
    if (this.#controller !== undefined) return false;
    this.#controller = controller;
    if (this.#aborted) controller.abort(this.#reason);
    return true;
  }

  abort(reason: unknown): void {
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/**
 * Makes `controller` the attempt's: it is aborted when the attempt is (its timeout, its deadline,
 * the caller), and `info.signal` is its signal. Only for an attempt of {@link runWithTimeout}
 * whose signal has not been read yet; false otherwise (then listen to `info.signal`).
 */
export function adoptAttemptController(info: AttemptInfo, controller: AbortController): boolean {
  return info instanceof AttemptHandle && info.adopt(controller);
}

/**
 * Runs one attempt with its own `AbortSignal`, aborted after `timeoutMs` (or sooner, at the
 * call's deadline) or when the caller aborts. The attempt's promise is settled at that moment
 * even if the attempt ignores its signal; the timer and listener are removed either way.
 * When the context has the call's `cancellation`, it subscribes to that instead of listening to
 * the context's signal (which a call makes only when something reads it).
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
  if (callAborted(context)) return Promise.reject(callAbortError(context));
  const cancellation = context.cancellation;
  const callerSignal = cancellation === undefined ? context.signal : undefined;
  const handle = new AttemptHandle(target, attemptNumber);
  return new Promise<AttemptResult<T>>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
      cancellation?.offAbort(onCallerAbort);
      return true;
    };
    const onCallerAbort = (): void => {
      if (!finish()) return;
      const reason = callAbortError(context);
      handle.abort(reason);
      reject(reason);
    };
    const limitMs = byDeadline ? remaining : timeoutMs;
    const timer = clock.setTimeout(() => {
      if (!finish()) return;
      const error = byDeadline
        ? deadlineError(context, clock.now(), 'passed during an attempt')
        : new ProviderTimeoutError(`no answer within ${limitMs} ms (LLM_TIMEOUT_MS)`, { provider: target.provider, model: target.model });
      handle.abort(error);
      reject(error);
    }, limitMs);
    callerSignal?.addEventListener('abort', onCallerAbort);
    cancellation?.onAbort(onCallerAbort);
    let pending: Promise<AttemptResult<T>>;
    try {
      pending = attempt(handle);
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
