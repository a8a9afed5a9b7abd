import { abortReason, type LinkedSignal } from '../internal/abort.js';
import type { CallPlan, CallTarget } from './call-pipeline.js';

/** What {@link CallSignal.onAbort} calls, once, with the abort's reason. */
export type AbortCallback = (reason: unknown) => void;

/**
 * One call's cancellation: it aborts when one of the caller's signals does, or when {@link abort}
 * is called (a client cutting its calls at close, a stream abandoned by its reader).
 *
 * Its `AbortSignal` is made only when something reads {@link signal}. Stages that only need to
 * hear of an abort subscribe with {@link onAbort}, a plain callback: a call that no one aborts
 * then costs no `AbortController` of its own and no `EventTarget` listener beyond one on each
 * caller signal.
 */
export class CallSignal implements LinkedSignal {
  readonly #sources: readonly AbortSignal[];
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #disposed = false;
  /** The callbacks of {@link onAbort}: usually none or one, so no set. */
  #callbacks: AbortCallback[] | undefined;
  /** Listens to the sources (a function: an object listener costs `EventTarget` a wrapper per listener). */
  readonly #onSourceAbort = (event: Event): void => {
    this.abort((event.target as AbortSignal).reason);
  };

  readonly #owner: Set<CallSignal> | undefined;
  #shared: AbortSignal | undefined;

  /**
   * Follows `sources` (undefined entries ignored) until it aborts or is disposed. An `owner` set
   * holds it until then (so that whoever keeps the set can abort every call still running). With
   * no source, {@link signal} is `shared` when given: a signal that aborts whenever the owner
   * aborts this call (a client's own), rather than one made for this call alone.
   *
   * Give `shared` only to a call that nothing else aborts: an {@link abort} that does not come
   * from it reaches the {@link onAbort} callbacks and the signals read after it, but not a shared
   * signal read before it, which goes on unaborted.
   */
  constructor(sources: ReadonlyArray<AbortSignal | undefined>, owner?: Set<CallSignal>, shared?: AbortSignal) {
    this.#owner = owner;
    // Kept as given (a caller's rest parameters, made for this call) unless there is an undefined to leave out.
    const present = sources.includes(undefined)
      ? sources.filter((source): source is AbortSignal => source !== undefined)
      : (sources as readonly AbortSignal[]);
    this.#sources = present;
    this.#shared = present.length === 0 ? shared : undefined;
    for (const source of present) {
      if (source.aborted) {
        this.abort(source.reason);
        return;
      }
    }
    for (const source of present) source.addEventListener('abort', this.#onSourceAbort);
    owner?.add(this);
  }

  /** Whether the call has been aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why the call was aborted (undefined until it is). */
  get reason(): unknown {
    return this.#reason;
  }

  /** The call's cancellation as an `AbortSignal`, made on first read; it aborts with the call. */
  get signal(): AbortSignal {
    if (this.#shared !== undefined) return this.#shared;
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.#controller = controller;
      if (this.#aborted) controller.abort(this.#reason);
    }
    return controller.signal;
  }

  /**
   * Calls `callback` with the reason when the call aborts (not if it has already: check
   * {@link aborted} first). Remove it with {@link offAbort} when it is no longer wanted.
   */
  onAbort(callback: AbortCallback): void {
    if (this.#aborted) return;
    if (this.#callbacks === undefined) this.#callbacks = [callback];
    else this.#callbacks.push(callback);
  }

  /** Removes a callback of {@link onAbort}. */
  offAbort(callback: AbortCallback): void {
    const callbacks = this.#callbacks;
    if (callbacks === undefined) return;
    const index = callbacks.indexOf(callback);
    if (index !== -1) callbacks.splice(index, 1);
  }

  /** Aborts the call with `reason` (the first abort wins), whatever its sources do. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    const shared = this.#shared;
    // Aborted otherwise than by the shared signal: from now on {@link signal} is the call's own, aborted with its reason.
    if (shared !== undefined && !(shared.aborted && shared.reason === this.#reason)) this.#shared = undefined;
    this.dispose();
    this.#controller?.abort(this.#reason);
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks !== undefined) for (const callback of callbacks) callback(this.#reason);
  }

  /** Stops following the sources and leaves its owner; the call can still be aborted with {@link abort}. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#owner?.delete(this);
    for (const source of this.#sources) source.removeEventListener('abort', this.#onSourceAbort);
  }
}

/**
 * What a stage knows of a call's cancellation: the running call, when it has one, else the
 * caller's signal. A plan's stages, a prepared call and the contexts of the pipelines all have it.
 */
export interface CallCancellation {
  /** The running call, heard through {@link CallSignal.onAbort}; when set, it decides. */
  readonly cancellation?: CallSignal | undefined;
  /** The caller's signal; read only when there is no {@link cancellation} (a call's own is made on first read). */
  readonly signal?: AbortSignal | undefined;
}

/** Whether the call has been aborted: by its {@link CallCancellation.cancellation} when it has one, else by its signal. */
export function callAborted(call: CallCancellation): boolean {
  const cancellation = call.cancellation;
  return cancellation === undefined ? call.signal?.aborted === true : cancellation.aborted;
}

/**
 * The error an aborted call ends with: its abort's reason, as an Error (see `abortReason`). Ask
 * only once {@link callAborted} says so.
 */
export function callAbortError(call: CallCancellation): Error {
  const cancellation = call.cancellation;
  const signal = cancellation === undefined ? call.signal : cancellation.signal;
  return signal === undefined ? new DOMException('This operation was aborted', 'AbortError') : abortReason(signal);
}

/**
 * A plan whose `signal` is `call`'s, made only if a stage reads it; {@link callSignalOf} gives the
 * call itself to the stages that subscribe to it instead. A class with the getter on its
 * prototype: an object literal with a getter costs V8 a closure and a slow literal per plan,
 * about 0.5 µs, more than the signal it spares.
 */
class CallSignalPlan implements CallPlan {
  readonly targets: CallTarget[];
  readonly estimatedTokens: number;
  readonly call: CallSignal;
  deadlineAt?: number;

  constructor(targets: CallTarget[], estimatedTokens: number, call: CallSignal) {
    this.targets = targets;
    this.estimatedTokens = estimatedTokens;
    this.call = call;
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }
}

/** A plan whose `signal` is `call`'s, made only if a stage of the pipeline reads it. */
export function callSignalPlan(targets: CallTarget[], estimatedTokens: number, call: CallSignal): CallPlan {
  return new CallSignalPlan(targets, estimatedTokens, call);
}

/** The call of a plan made by {@link callSignalPlan}, else undefined. */
export function callSignalOf(plan: CallPlan): CallSignal | undefined {
  return plan instanceof CallSignalPlan ? plan.call : undefined;
}
