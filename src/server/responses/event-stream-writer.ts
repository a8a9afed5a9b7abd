import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/**
 * Writes named server-sent events (`event: response.created` then `data: …`), as the Responses
 * API streams them, and respects backpressure: a write waits for the socket to drain when its
 * buffer is full, or stops when the connection closes.
 */
export class EventStreamWriter {
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

  /** Sends one event named `event` with `value` as its JSON data. */
  async send(event: string, value: unknown): Promise<void> {
    if (this.#response.destroyed) return;
    if (this.#response.write(`event: ${event}\ndata: ${JSON.stringify(value)}\n\n`)) return;
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

  end(): void {
    if (!this.#response.destroyed) this.#response.end();
  }
}
