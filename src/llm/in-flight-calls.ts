import { setMaxListeners } from 'node:events';
import type { Clock } from '../internal/clock.js';
import { CallSignal } from './call-signal.js';

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
  /** Each call linked with {@link InFlightCalls.link}, until it ends. */
  readonly #linked = new Set<CallSignal>();

  /** Aborts every call still running when {@link InFlightCalls.drain} gives up waiting. */
  get signal(): AbortSignal {
    return this.#closing.signal;
  }

  /**
   * The cancellation of one call: it aborts when any of `signals` does (undefined entries ignored)
   * or when {@link InFlightCalls.drain} cuts the calls still running; `dispose()` it when the call ends.
   *
   * The same as `linkSignals(...signals, this.signal)`, without a listener on {@link signal} per
   * running call: adding and removing an `EventTarget` listener walks every listener already
   * there, so with N calls in flight each call paid O(N) twice. Calls are kept in a set instead.
   * Its `AbortSignal` is made only when something reads it (see {@link CallSignal}); a call with
   * no signal of its own reads the client's, so nothing but `signals` and the drain may abort it:
   * link a call that is also aborted otherwise with {@link linkAbortable}.
   */
  link(...signals: Array<AbortSignal | undefined>): CallSignal {
    return this.#link(signals, this.#closing.signal);
  }

  /**
   * As {@link link}, for a call that its runner may also abort with `abort()` (a stream abandoned
   * by its reader): its signal is always its own, never the client's, so that every stage that
   * has read it hears that abort too.
   */
  linkAbortable(...signals: Array<AbortSignal | undefined>): CallSignal {
    return this.#link(signals, undefined);
  }

  #link(signals: Array<AbortSignal | undefined>, shared: AbortSignal | undefined): CallSignal {
    const closing = this.#closing.signal;
    const call = new CallSignal(signals, this.#linked, shared);
    if (closing.aborted) call.abort(closing.reason);
    return call;
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
      for (const call of [...this.#linked]) call.abort(reason);
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
