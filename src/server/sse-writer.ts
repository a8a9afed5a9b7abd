import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/**
 * Writes server-sent events (`data: …\n\n`, or named ones with `event: …` first, as the Responses
 * API streams them) and respects backpressure: each write waits for the
 * socket to drain when its buffer is full, or stops when the connection closes.
 *
 * What is written in one iteration of the event loop leaves in one socket write: the response is
 * corked at the first write and uncorked once the iteration's I/O callbacks have run (`setImmediate`),
 * so the headers and the first events, the several events one upstream read carries, and the end of
 * a stream whose last bytes came in the same read cost one system call rather than one each. No
 * event waits past the iteration it was written in. (Uncorking on the next tick sent a stream's end
 * in a write of its own: the upstream body's end is announced on a later tick than its data.)
 */
export class SseWriter {
  readonly #response: ServerResponse;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    if (!this.#response.writableEnded) this.#response.uncork();
  };

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  /** Sends the status line and the event-stream headers (with the first events, in the same turn). */
  open(headers: Record<string, string>): void {
    this.#cork();
    this.#response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    this.#response.flushHeaders();
  }

  /**
   * Sends one event whose data is `value` as JSON, or the raw string (e.g. `[DONE]`); named
   * `event` when given. Returns a promise only when the socket's buffer is full (it resolves once
   * drained or closed): a caller sending many events awaits only then, rather than a microtask each.
   */
  send(value: unknown, event?: string): Promise<void> | undefined {
    if (this.#response.destroyed) return undefined;
    const data = typeof value === 'string' ? value : JSON.stringify(value);
    this.#cork();
    const frame = event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
    if (this.#response.write(frame)) return undefined;
    return this.#drained();
  }

  /** Waits for the socket to drain, or for the connection to close. */
  async #drained(): Promise<void> {
    const settled = new AbortController();
    try {
      await Promise.race([
        once(this.#response, 'drain', { signal: settled.signal }),
        once(this.#response, 'close', { signal: settled.signal }),
      ]);
    } finally {
      settled.abort();
    }
  }

  /** Ends the response, sending whatever is still corked. */
  end(): void {
    if (!this.#response.destroyed) this.#response.end();
  }

  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#response.cork();
    setImmediate(this.#uncork);
  }
}
