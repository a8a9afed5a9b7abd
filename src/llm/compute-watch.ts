/**
 * Watches the compute a call starts for its answer (through the response cache or not), so that
 * the call's ledger row can wait for it. Everything a compute spends is added to the trace of the
 * call that started it; a caller released before its compute ended (it cancelled while other
 * callers of the same cached key still wait, or its reader abandoned a stream) must record its row
 * only once the compute has ended, or the row would miss what the compute spent after.
 */
export class ComputeWatch {
  #ended: Promise<void> | undefined;
  #settled = false;
  #failure: { error: unknown } | undefined;

  /** Starts the compute with `start` and watches it; returns its promise untouched. */
  run<T>(start: () => Promise<T>): Promise<T> {
    const promise = start();
    this.#ended = promise.then(
      () => {
        this.#settled = true;
      },
      (error: unknown) => {
        this.#settled = true;
        this.#failure = { error };
      },
    );
    return promise;
  }

  /** Whether a compute was started and has not ended yet. */
  get running(): boolean {
    return this.#ended !== undefined && !this.#settled;
  }

  /** Resolves once the compute has ended, either way (at once when none was started). Never rejects. */
  ended(): Promise<void> {
    return this.#ended ?? Promise.resolve();
  }

  /** The compute's error, when it failed; undefined otherwise. */
  get failure(): { error: unknown } | undefined {
    return this.#failure;
  }
}
