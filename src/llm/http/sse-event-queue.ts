import type { SseEvent } from './sse-decoder.js';

/** What a {@link SseEventQueue} asks of the exchange that feeds it. */
export interface SseEventSource {
  /** The consumer has drained the queue after the source was told to pause: read the body again. */
  resumeReading(): void;
  /** The consumer stopped early: abort the request, so that its connection is closed rather than left half-read. */
  stopReading(): void;
}

/** How many decoded events may wait for the consumer before the source is told to pause. */
export const PAUSE_AT_EVENTS = 64;
/** How few events may still wait when reading resumes, so that the consumer need not wait for the network. */
const RESUME_AT_EVENTS = 16;
/** How many taken events are kept at the front of the buffer before it is compacted. */
const COMPACT_AT = 256;

const DONE: IteratorReturnResult<void> = Object.freeze({ value: undefined, done: true });

interface Waiter {
  resolve(result: IteratorResult<SseEvent, void>): void;
  reject(error: unknown): void;
}

/**
 * The events of a streamed answer, queued between the dispatch handler that decodes them and the
 * consumer that reads them, as an async generator would give them (`for await`, `next()`,
 * `return()`, `throw()`), without an async generator's promise and microtask per step. A
 * consumer reading slower than the body arrives makes the source pause once
 * {@link PAUSE_AT_EVENTS} events wait, and resume once it has read most of them; a consumer that
 * returns (or breaks out of `for await`) stops the source. A failure is given to the next read
 * after the events that came before it, unless it is an abort, which drops them; once it has been
 * given, every later read is done, as after a generator that threw.
 */
export class SseEventQueue implements AsyncGenerator<SseEvent, void, undefined> {
  readonly #source: SseEventSource;
  readonly #buffer: SseEvent[] = [];
  #head = 0;
  readonly #waiters: Waiter[] = [];
  /** No event will be added any more. */
  #ended = false;
  /** The consumer has returned, or has been given the end or the failure: every later read is done. */
  #done = false;
  #failed = false;
  #failure: unknown;
  #paused = false;

  constructor(source: SseEventSource) {
    this.#source = source;
  }

  /** How many events wait for the consumer. */
  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /** Whether the source has been told to pause and not yet to resume. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Hands `events` to waiting readers and queues the rest; false when the source should pause
   * (undici's `onData` answer), to be resumed through {@link SseEventSource.resumeReading}.
   */
  add(events: readonly SseEvent[]): boolean {
    if (this.#done) return true;
    for (const event of events) {
      const waiter = this.#waiters.shift();
      if (waiter === undefined) this.#buffer.push(event);
      else waiter.resolve({ value: event, done: false });
    }
    if (this.buffered < PAUSE_AT_EVENTS) return true;
    this.#paused = true;
    return false;
  }

  /** The body has ended: readers get the queued events, then the end. */
  end(): void {
    this.#ended = true;
    if (this.buffered === 0) this.#settleWaiters();
  }

  /**
   * The exchange failed with `error`: the next read rejects with it, after the queued events,
   * or at once, dropping them, when `dropQueued` (an abort).
   */
  fail(error: unknown, dropQueued: boolean): void {
    if (this.#done || this.#ended) return;
    this.#ended = true;
    this.#failed = true;
    this.#failure = error;
    if (dropQueued) this.#clear();
    if (this.buffered === 0) this.#settleWaiters();
  }

  next(): Promise<IteratorResult<SseEvent, void>> {
    if (this.buffered > 0) {
      const value = this.#take();
      if (this.#paused && this.buffered <= RESUME_AT_EVENTS) {
        this.#paused = false;
        this.#source.resumeReading();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) return Promise.resolve(DONE);
    if (this.#ended) return this.#last();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  /** Stops reading: the source aborts the request unless its body has ended; queued events are dropped. */
  return(): Promise<IteratorResult<SseEvent, void>> {
    this.#stop();
    return Promise.resolve(DONE);
  }

  /** Stops reading as {@link return} does, and rejects with `error`, as a generator that does not catch it. */
  throw(error: unknown): Promise<IteratorResult<SseEvent, void>> {
    this.#stop();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #stop(): void {
    const stopping = !this.#ended;
    this.#ended = true;
    this.#done = true;
    this.#clear();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
    if (stopping) this.#source.stopReading();
  }

  #take(): SseEvent {
    const value = this.#buffer[this.#head] as SseEvent;
    this.#head += 1;
    if (this.#head === this.#buffer.length) this.#clear();
    else if (this.#head >= COMPACT_AT) {
      this.#buffer.splice(0, this.#head);
      this.#head = 0;
    }
    return value;
  }

  #clear(): void {
    this.#buffer.length = 0;
    this.#head = 0;
  }

  /** The end or the failure, to the first reader that reaches it; done to any after. */
  #last(): Promise<IteratorResult<SseEvent, void>> {
    this.#done = true;
    if (!this.#failed) return Promise.resolve(DONE);
    const failure = this.#failure;
    this.#failure = undefined;
    return Promise.reject(failure);
  }

  #settleWaiters(): void {
    const waiters = this.#waiters.splice(0);
    if (waiters.length === 0) return;
    this.#done = true;
    const [first, ...others] = waiters as [Waiter, ...Waiter[]];
    if (this.#failed) {
      const failure = this.#failure;
      this.#failure = undefined;
      first.reject(failure);
    } else first.resolve(DONE);
    for (const waiter of others) waiter.resolve(DONE);
  }
}
