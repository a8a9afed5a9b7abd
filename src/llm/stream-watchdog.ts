import { ProviderTimeoutError } from '../errors/provider-errors.js';
import type { Clock, TimerHandle } from '../internal/clock.js';

/**
 * Aborts a stream that is silent too long: first the wait for the first chunk, then each silence
 * between chunks. The abort reason is a {@link ProviderTimeoutError} saying which wait ran out.
 */
export class StreamWatchdog {
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #where: { provider: string; model: string };
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, firstChunkMs: number, idleMs: number, where: { provider: string; model: string }) {
    this.#clock = clock;
    this.#idleMs = idleMs;
    this.#where = where;
    this.#arm(firstChunkMs, `no first chunk within ${firstChunkMs} ms (LLM_STREAM_FIRST_CHUNK_TIMEOUT_MS)`);
  }

  /** Aborts when a wait runs out. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** A chunk arrived: restart the silence timer. */
  touch(): void {
    this.#arm(this.#idleMs, `no chunk for ${this.#idleMs} ms (LLM_STREAM_IDLE_TIMEOUT_MS)`);
  }

  /** The stream is over: clear the timer. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number, detail: string): void {
    this.stop();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#controller.abort(new ProviderTimeoutError(`stream stalled: ${detail}`, this.#where));
    }, ms);
  }
}
