import { ProviderTimeoutError } from '../errors/provider-errors.js';
import type { Clock, TimerHandle } from '../internal/clock.js';
import { DeadlineExceededError } from '../resilience/errors.js';

/** The whole call's budget, which a stream must end within, first chunk to last. */
export interface StreamDeadline {
  /** When the call started, epoch ms on the watchdog's clock. */
  startedAt: number;
  /** LLM_DEADLINE_MS. */
  deadlineMs: number;
}

/**
 * Aborts a stream that is silent too long: first the wait for the first chunk, then each silence
 * between chunks; and, given a deadline, a stream still running when the call's deadline passes,
 * however steadily it drips. The abort reason is a {@link ProviderTimeoutError} saying which wait
 * ran out, or a {@link DeadlineExceededError}.
 */
export class StreamWatchdog {
  readonly #controller: AbortController;
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #where: { provider: string; model: string };
  readonly #deadline: StreamDeadline | undefined;
  #timer: TimerHandle | undefined;
  /** When the last chunk arrived; undefined before the first. */
  #lastChunkAt: number | undefined;

  /** `controller`, when given, is the one aborted (a signal shared with other causes); else the watchdog makes its own. */
  constructor(
    clock: Clock,
    firstChunkMs: number,
    idleMs: number,
    where: { provider: string; model: string },
    deadline?: StreamDeadline,
    controller: AbortController = new AbortController(),
  ) {
    this.#controller = controller;
    this.#clock = clock;
    this.#idleMs = idleMs;
    this.#where = where;
    this.#deadline = deadline;
    this.#arm(firstChunkMs, () => `no first chunk within ${firstChunkMs} ms (LLM_STREAM_FIRST_CHUNK_TIMEOUT_MS)`);
  }

  /** Aborts when a wait runs out. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * A chunk arrived: the silence starts again. Only the first chunk re-arms the timer; later ones
   * note the time, and the idle timer, when it fires, waits on for what is left of the silence
   * since the last chunk. A chunk costs a clock read, not a timer cleared and set.
   */
  touch(): void {
    const first = this.#lastChunkAt === undefined;
    this.#lastChunkAt = this.#clock.now();
    if (first) this.#armIdle(this.#idleMs);
  }

  /** The stream is over: clear the timer. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #armIdle(ms: number): void {
    this.#arm(
      ms,
      () => `no chunk for ${this.#idleMs} ms (LLM_STREAM_IDLE_TIMEOUT_MS)`,
      () => {
        const silentMs = this.#clock.now() - (this.#lastChunkAt ?? 0);
        if (silentMs >= this.#idleMs) return false;
        this.#armIdle(this.#idleMs - silentMs);
        return true;
      },
    );
  }

  /** Arms the timer for `ms`; when it fires, `extend` may re-arm it instead (a chunk came meanwhile). */
  #arm(ms: number, detail: () => string, extend?: () => boolean): void {
    this.stop();
    if (this.#controller.signal.aborted) return;
    const deadline = this.#deadline;
    const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline.startedAt + deadline.deadlineMs - this.#clock.now();
    if (deadline !== undefined && left <= ms) {
      this.#timer = this.#clock.setTimeout(
        () => {
          this.#timer = undefined;
          this.#controller.abort(
            new DeadlineExceededError({
              deadlineMs: deadline.deadlineMs,
              elapsedMs: this.#clock.now() - deadline.startedAt,
              reason: 'passed while the answer was streaming',
            }),
          );
        },
        Math.max(0, left),
      );
      return;
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (extend?.() === true) return;
      this.#controller.abort(new ProviderTimeoutError(`stream stalled: ${detail()}`, this.#where));
    }, ms);
  }
}
