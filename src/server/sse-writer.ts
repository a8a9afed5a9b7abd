import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setImmediate } from 'node:timers';

/**
 * The real `setImmediate`, taken when this module loads: fake timers installed later by a test of an
 * application that embeds the server replace the global one (and `node:timers`' own export), and a
 * response whose uncork were faked would hold its data, and wait forever for a 'drain', until the
 * test advanced its clock.
 */
const uncorkSoon: typeof setImmediate = setImmediate;

/**
 * Writes server-sent events (`data: …\n\n`, or named ones with `event: …` first, as the Responses
 * API streams them) and respects backpressure: each write waits for the
 * socket to drain when its buffer is full, or stops when the connection closes.
 *
 * The response is corked at the first write and uncorked by a `setImmediate` callback, which runs in
 * the check phase once the loop's I/O callbacks have run: what is written before that callback (the
 * headers and the first events, the several events one upstream read carries, the end of a stream
 * whose last bytes came in the same read) leaves in one socket write. A write made after that
 * callback, in a later callback of the same check phase, corks again and leaves with the next
 * iteration's uncork.
 */
export class SseWriter {
  readonly #response: ServerResponse;
  #corked = false;
  /**
   * Runs after `end()` too, harmlessly: `end()` has uncorked the socket fully already, and a response
   * that finished no longer holds the socket, which a pipelined response queued behind it may own now.
   */
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#response.uncork();
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
    uncorkSoon(this.#uncork);
  }
}
