import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/**
 * Writes server-sent events (`data: …\n\n`) and respects backpressure: each write waits for the
 * socket to drain when its buffer is full, or stops when the connection closes.
 */
export class SseWriter {
  readonly #response: ServerResponse;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  /** Sends the status line and the event-stream headers. */
  open(headers: Record<string, string>): void {
    this.#response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    this.#response.flushHeaders();
  }

  /** Sends one event whose data is `value` as JSON, or the raw string (e.g. `[DONE]`). */
  async send(value: unknown): Promise<void> {
    if (this.#response.destroyed) return;
    const data = typeof value === 'string' ? value : JSON.stringify(value);
    if (this.#response.write(`data: ${data}\n\n`)) return;
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

  /** Ends the response. */
  end(): void {
    if (!this.#response.destroyed) this.#response.end();
  }
}
