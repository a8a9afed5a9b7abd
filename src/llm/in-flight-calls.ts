import { setMaxListeners } from 'node:events';
import type { LinkedSignal } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';

const noop = (): void => {};

/**
 * Counts the calls a client is making, so that closing it can wait for each to be recorded
 * (metrics, log line, ledger row) before the ledger closes, and can cut the ones that would not end.
 */
export class InFlightCalls {
  readonly #closing = new AbortController();

  constructor() {
    // Every running call listens to this signal (and removes its listener when it ends).
    setMaxListeners(0, this.#closing.signal);
  }

  #count = 0;
  #idle: Array<() => void> = [];
  /** How to abort each call linked with {@link InFlightCalls.link}, until it ends. */
  readonly #linked = new Set<(reason: unknown) => void>();

  /** Aborts every call still running when {@link InFlightCalls.drain} gives up waiting. */
  get signal(): AbortSignal {
    return this.#closing.signal;
  }

  /**
   * A signal for one call that aborts when any of `signals` does (undefined entries ignored) or
   * when {@link InFlightCalls.drain} cuts the calls still running; `dispose()` it when the call ends.
   *
   * The same as `linkSignals(...signals, this.signal)`, without a listener on {@link signal} per
   * running call: adding and removing an `EventTarget` listener walks every listener already
   * there, so with N calls in flight each call paid O(N) twice. Calls are kept in a set instead.
   */
  link(...signals: Array<AbortSignal | undefined>): LinkedSignal {
    const closing = this.#closing.signal;
    const sources = signals.filter((signal): signal is AbortSignal => signal !== undefined);
    if (sources.length === 0) return { signal: closing, dispose: noop };
    const controller = new AbortController();
    const aborted = closing.aborted ? closing : sources.find((signal) => signal.aborted);
    if (aborted !== undefined) {
      controller.abort(aborted.reason);
      return { signal: controller.signal, dispose: noop };
    }
    let disposed = false;
    const dispose = (): void => {
      if (disposed) return;
      disposed = true;
      this.#linked.delete(abort);
      for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    };
    const abort = (reason: unknown): void => {
      dispose();
      controller.abort(reason);
    };
    const listeners = sources.map((source): [AbortSignal, () => void] => {
      const listener = (): void => abort(source.reason);
      source.addEventListener('abort', listener, { once: true });
      return [source, listener];
    });
    this.#linked.add(abort);
    return { signal: controller.signal, dispose };
  }

  /** Calls running now. */
  get count(): number {
    return this.#count;
  }

  /** Counts one call; the returned function ends it (call it once, after the call is recorded). */
  begin(): () => void {
    this.#count++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#count--;
      if (this.#count === 0) for (const resolve of this.#idle.splice(0)) resolve();
    };
  }

  /**
   * Waits up to `graceMs` for every call to end; then aborts the rest with `reason` and waits up to
   * `cutMs` more for them to record their end. Resolves with the number of calls still running.
   */
  async drain(graceMs: number, cutMs: number, reason: Error, clock: Clock): Promise<number> {
    if (!(await this.#idleWithin(graceMs, clock))) {
      this.#closing.abort(reason);
      for (const abort of [...this.#linked]) abort(reason);
      await this.#idleWithin(cutMs, clock);
    }
    return this.#count;
  }

  #idleWithin(ms: number, clock: Clock): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = clock.setTimeout(() => {
        this.#idle = this.#idle.filter((entry) => entry !== done);
        resolve(false);
      }, ms);
      const done = (): void => {
        clock.clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(done);
    });
  }
}
