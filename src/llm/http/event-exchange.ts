import type { Dispatcher } from 'undici';
import { answerHeaderFacts, type ParseHeaders, type RawHeaders } from './answer-headers.js';
import { bodyText, reasonOf } from './json-exchange.js';
import { SseDecoder } from './sse-decoder.js';
import { SseEventQueue, type SseEventSource } from './sse-event-queue.js';
import type { UpstreamHeaders } from './upstream-headers.js';
import { UpstreamStatusError } from './upstream-status-error.js';

/**
 * A streamed answer whose status was a success: its request id and rate-limit headers (read from
 * the raw headers), every header (parsed when first read), and its server-sent events as they arrive.
 */
export class EventAnswer {
  readonly requestId: string | undefined;
  /** OpenAI's and Azure's `x-ratelimit-*` headers as sent; undefined when there are none. */
  readonly rateLimitHeaders: Record<string, string> | undefined;
  /** Ends when the body does; returning early aborts the request, closing its connection. */
  readonly events: SseEventQueue;
  readonly #raw: RawHeaders | null;
  readonly #parseHeaders: ParseHeaders;
  #headers: UpstreamHeaders | undefined;

  constructor(raw: RawHeaders | null, parseHeaders: ParseHeaders, events: SseEventQueue) {
    const facts = answerHeaderFacts(raw);
    this.requestId = facts.requestId;
    this.rateLimitHeaders = facts.rateLimitHeaders;
    this.events = events;
    this.#raw = raw;
    this.#parseHeaders = parseHeaders;
  }

  /** Every header, as undici's `request()` gives them (lower-case names, repeated ones as arrays); parsed on first read. */
  get headers(): UpstreamHeaders {
    this.#headers ??= this.#raw === null ? {} : this.#parseHeaders(this.#raw);
    return this.#headers;
  }
}

/**
 * Sends one request through `dispatcher` whose answer is a `text/event-stream`, and resolves once
 * a success (2xx) has its headers, with its events decoded by {@link SseDecoder} as the chunks
 * arrive. undici's `request()` would wrap the body in a `Readable`, parse every header and read
 * through an async generator; this handler feeds an {@link SseEventQueue}, which pauses the socket
 * while {@link PAUSE_AT_EVENTS} events wait unread and resumes it once they are read. An error
 * status's body is read whole and the exchange fails with an {@link UpstreamStatusError}.
 *
 * `signal` aborts the request: before the headers the exchange fails at once with the signal's
 * reason (also while the connection is still being made); after the headers and before the body
 * ends, the next read rejects with it. Once the body has ended the request is over and `signal`
 * no longer counts: later reads still get every queued event, then the end. A consumer that returns early aborts the request, so that its connection is closed rather
 * than left half-read. Timeouts and network errors, before the headers or mid-body, fail the
 * exchange or the next read (after the events before them) as undici reports them. The listener
 * on `signal` is removed when the exchange ends, in every way.
 */
export function exchangeEvents(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal,
  parseHeaders: ParseHeaders,
): Promise<EventAnswer> {
  if (signal.aborted) return Promise.reject(reasonOf(signal));
  return new Promise<EventAnswer>((resolve, reject) => {
    new EventExchangeHandler(signal, parseHeaders, resolve, reject).start(dispatcher, options);
  });
}

class EventExchangeHandler implements Dispatcher.DispatchHandlers, SseEventSource {
  readonly #signal: AbortSignal;
  readonly #parseHeaders: ParseHeaders;
  readonly #resolve: (answer: EventAnswer) => void;
  readonly #reject: (error: unknown) => void;
  #abort: ((reason?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  /** Why the request is to be aborted, once it is. */
  #reason: unknown;
  /** The exchange is over: completed, failed, aborted or stopped; the listener on the signal is gone. */
  #over = false;
  #statusCode = 0;
  #rawHeaders: RawHeaders | null = null;
  /** A success's events, once its headers have come. */
  #events: SseEventQueue | undefined;
  #decoder: SseDecoder | undefined;
  /** An error status's body. */
  readonly #chunks: Buffer[] = [];
  readonly #onAbort = (): void => {
    this.#abortNow(reasonOf(this.#signal));
  };

  constructor(signal: AbortSignal, parseHeaders: ParseHeaders, resolve: (answer: EventAnswer) => void, reject: (error: unknown) => void) {
    this.#signal = signal;
    this.#parseHeaders = parseHeaders;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): void {
    this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    try {
      dispatcher.dispatch(options, this);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  onConnect(abort: (reason?: Error) => void): void {
    // Aborted before the connection came up: undici applies an abort only once connected.
    if (this.#reason !== undefined) {
      abort(this.#reason as Error);
      return;
    }
    this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null, resume: () => void): boolean {
    // 1xx answers (`100 Continue`) come before the real one.
    if (statusCode < 200) return true;
    this.#statusCode = statusCode;
    this.#rawHeaders = rawHeaders;
    if (statusCode >= 300 || this.#over) return true;
    this.#resume = resume;
    this.#decoder = new SseDecoder();
    this.#events = new SseEventQueue(this);
    this.#resolve(new EventAnswer(rawHeaders, this.#parseHeaders, this.#events));
    return true;
  }

  onData(chunk: Buffer): boolean {
    const events = this.#events;
    if (events === undefined) {
      this.#chunks.push(chunk);
      return true;
    }
    const decoded = (this.#decoder as SseDecoder).push(chunk);
    return decoded.length === 0 || events.add(decoded);
  }

  onComplete(): void {
    if (!this.#finish()) return;
    const events = this.#events;
    if (events !== undefined) {
      events.end();
      return;
    }
    const text = bodyText(this.#chunks);
    const headers = this.#rawHeaders === null ? {} : this.#parseHeaders(this.#rawHeaders);
    this.#reject(new UpstreamStatusError(this.#statusCode, headers, text));
  }

  onError(error: Error): void {
    if (!this.#finish()) return;
    if (this.#events === undefined) this.#reject(error);
    else this.#events.fail(error, false);
  }

  resumeReading(): void {
    this.#resume?.();
  }

  stopReading(): void {
    this.#abortNow(new DOMException('The stream was closed before its end', 'AbortError'), false);
  }

  /** Fails the exchange now with `reason` (the readers too, when `tellReaders`) and aborts the request, or marks it to be aborted once connected. */
  #abortNow(reason: unknown, tellReaders = true): void {
    if (!this.#finish()) return;
    this.#reason = reason;
    if (tellReaders) {
      if (this.#events === undefined) this.#reject(reason);
      else this.#events.fail(reason, true);
    }
    const abort = this.#abort;
    this.#abort = undefined;
    abort?.(reason as Error);
  }

  #finish(): boolean {
    if (this.#over) return false;
    this.#over = true;
    this.#resume = undefined;
    this.#signal.removeEventListener('abort', this.#onAbort);
    return true;
  }
}
