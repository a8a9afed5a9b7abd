/** A one-consumer queue that one side pushes into and the other iterates; ends with `close()` or `fail()`. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #ended = false;
  #error: { error: unknown } | undefined;
  #wake: (() => void) | undefined;

  push(item: T): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#notify();
  }

  close(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(error: unknown): void {
    if (this.#ended) return;
    this.#error = { error };
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Iterates the items as they come. A plain iterator rather than an async generator: an item
   * already queued is handed over in a resolved promise, without a generator's own queue.
   */
  [Symbol.asyncIterator](): AsyncIterator<T, void, undefined> {
    const next = async (): Promise<IteratorResult<T, void>> => {
      for (;;) {
        const item = this.#items.shift();
        if (item !== undefined) return { done: false, value: item };
        if (this.#ended) {
          if (this.#error !== undefined) throw this.#error.error;
          return { done: true, value: undefined };
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    };
    return { next };
  }
}
