import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

/** The reason an aborted signal carries, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(typeof reason === 'string' ? reason : 'The operation was aborted');
  error.name = 'AbortError';
  return error;
}

/** Throws the signal's reason if it is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Waits `ms` milliseconds on `clock`, or rejects with the signal's reason as soon as it aborts.
 * Leaves no timer or listener behind either way.
 */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortReason(signal as AbortSignal));
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal that aborts when any of its sources does, and a way to let go of the sources. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners on the sources; the signal no longer follows them. Idempotent. */
  dispose(): void;
}

const noop = (): void => {};

/**
 * A signal that aborts when any of `signals` does (undefined entries ignored). Call `dispose()`
 * when the work it guards is over: then nothing but the work's own references keep it alive.
 *
 * Prefer this to `AbortSignal.any` for anything that may not abort: on Node 20 a signal from
 * `AbortSignal.any` that has an `abort` listener (fetch adds one, and never removes it) is kept
 * alive, with everything its listeners reference, until it aborts, which for a finished request
 * is never: one leaked request per call.
 */
export function linkSignals(...signals: Array<AbortSignal | undefined>): LinkedSignal {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length === 1) return { signal: present[0] as AbortSignal, dispose: noop };
  const controller = new AbortController();
  const aborted = present.find((signal) => signal.aborted);
  if (aborted !== undefined || present.length === 0) {
    if (aborted !== undefined) controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: noop };
  }
  const listeners = present.map((source) => {
    const listener = (): void => {
      dispose();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', listener, { once: true });
    return { source, listener };
  });
  let disposed = false;
  function dispose(): void {
    if (disposed) return;
    disposed = true;
    for (const { source, listener } of listeners) source.removeEventListener('abort', listener);
  }
  return { signal: controller.signal, dispose };
}

/**
 * `promise`, or a rejection with `signal`'s reason (as an Error) as soon as `signal` aborts,
 * whichever comes first. The listener on `signal` is removed either way; the promise runs on.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
