import type { LinkedSignal } from '../internal/abort.js';
import { adoptAttemptController } from '../resilience/attempt-timeout.js';
import type { AttemptInfo } from './call-pipeline.js';
import type { CallSignal } from './call-signal.js';

/**
 * The one signal a streamed attempt's provider is given. It aborts with the attempt (its timeout
 * or deadline, until the first chunk), with the stream's watchdog (which is handed its
 * controller), or with the call, whichever comes first. It replaces a link of three signals,
 * each with its own controller: the attempt's controller is this one when the pipeline's attempt
 * has not made its own yet, and the call is heard through a callback.
 */
export class StreamSignal implements LinkedSignal {
  /** Aborted by the attempt, the watchdog or the call. */
  readonly controller = new AbortController();
  readonly #cancellation: CallSignal | undefined;
  /** Signals listened to: the attempt's own, when it had one, and the caller's, when the call has no cancellation. */
  readonly #sources: AbortSignal[] = [];
  readonly #abort = (reason: unknown): void => {
    this.dispose();
    this.controller.abort(reason);
  };
  readonly #onSourceAbort = (event: Event): void => {
    this.#abort((event.target as AbortSignal).reason);
  };
  #disposed = false;

  /**
   * Follows `attempt`, and the call (its `cancellation`, else the caller's `signal`). Already
   * aborted by the attempt, it follows nothing.
   */
  constructor(attempt: AttemptInfo, call: { cancellation?: CallSignal | undefined; signal?: AbortSignal | undefined }) {
    if (!adoptAttemptController(attempt, this.controller)) this.#listen(attempt.signal);
    const cancellation = call.cancellation;
    this.#cancellation = cancellation;
    if (cancellation === undefined) this.#listen(call.signal);
    else if (cancellation.aborted) this.#abort(cancellation.reason);
    // Not when the attempt has already aborted it: nothing would take the callback off again.
    else if (!this.#disposed) cancellation.onAbort(this.#abort);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops following the attempt's signal and the call. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#cancellation?.offAbort(this.#abort);
    for (const source of this.#sources) source.removeEventListener('abort', this.#onSourceAbort);
  }

  #listen(source: AbortSignal | undefined): void {
    if (source === undefined || this.#disposed) return;
    if (source.aborted) {
      this.#abort(source.reason);
      return;
    }
    source.addEventListener('abort', this.#onSourceAbort);
    this.#sources.push(source);
  }
}
