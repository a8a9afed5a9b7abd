import type { Dispatcher } from 'undici';
import { type AnswerHeaderFacts, answerHeaderFacts, type ParseHeaders, type RawHeaders } from './answer-headers.js';
import type { UpstreamHeaders } from './upstream-headers.js';

export type { ParseHeaders } from './answer-headers.js';

/**
 * A whole answer: its status, body text and headers. The headers are parsed into an object only
 * when {@link headers} is first read (an error answer, a forwarded one): a JSON answer's caller
 * reads only {@link facts}, and parsing every header of every answer cost about 5% of `serve`'s
 * CPU per JSON request at one connection.
 */
export class WholeAnswer {
  readonly statusCode: number;
  readonly text: string;
  readonly #raw: RawHeaders | null;
  readonly #parseHeaders: ParseHeaders;
  #headers: UpstreamHeaders | undefined;

  constructor(statusCode: number, raw: RawHeaders | null, text: string, parseHeaders: ParseHeaders) {
    this.statusCode = statusCode;
    this.#raw = raw;
    this.text = text;
    this.#parseHeaders = parseHeaders;
  }

  /** Every header, as undici's `request()` gives them (lower-case names, repeated ones as arrays); parsed on first read. */
  get headers(): UpstreamHeaders {
    this.#headers ??= this.#raw === null ? {} : this.#parseHeaders(this.#raw);
    return this.#headers;
  }

  /** `x-request-id` and the `x-ratelimit-*` headers, read from the raw headers without parsing the others. */
  facts(): AnswerHeaderFacts {
    return answerHeaderFacts(this.#raw);
  }
}

/**
 * Sends one request through `dispatcher` and collects the whole answer, for answers read in full
 * (JSON). undici's `request()` wraps each answer in a `Readable` stream and an `AsyncResource`,
 * which a body read at once in one or two chunks does not need: this handler gathers the chunks
 * and settles one promise. `signal` is wired to undici's abort function once the request is
 * connected, and its listener removed when the exchange ends; an abort fails the exchange with
 * the signal's reason at once, also while the connection is still being made, and timeouts and network errors fail it as undici reports them, as
 * `request()` does. `onDispatched`, when given, is called once the connection is up and undici is
 * about to write the request (its `onConnect`), unless `signal` aborted first: a failure before it
 * (DNS, a refused or timed-out connection) sent nothing.
 */
export function exchangeWhole(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal,
  parseHeaders: ParseHeaders,
  onDispatched?: () => void,
): Promise<WholeAnswer> {
  if (signal.aborted) return Promise.reject(reasonOf(signal));
  return new Promise<WholeAnswer>((resolve, reject) => {
    new WholeAnswerHandler(signal, parseHeaders, resolve, reject, onDispatched).start(dispatcher, options);
  });
}

/** Why `signal` aborted: its reason, else a plain `AbortError`. */
export function reasonOf(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** A body's chunks as UTF-8 text, without copying a body that came in one chunk. */
export function bodyText(chunks: readonly Buffer[]): string {
  return chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

class WholeAnswerHandler implements Dispatcher.DispatchHandlers {
  readonly #signal: AbortSignal;
  readonly #parseHeaders: ParseHeaders;
  readonly #resolve: (answer: WholeAnswer) => void;
  readonly #reject: (error: unknown) => void;
  readonly #onDispatched: (() => void) | undefined;
  #abort: ((reason?: Error) => void) | undefined;
  #reason: unknown;
  #settled = false;
  #statusCode = 0;
  /** Views of the answer's own socket chunks (undici hands each handler its own array), kept for {@link WholeAnswer}. */
  #rawHeaders: RawHeaders | null = null;
  readonly #chunks: Buffer[] = [];
  readonly #onAbort = (): void => {
    this.#reason = reasonOf(this.#signal);
    const abort = this.#abort;
    if (abort !== undefined) {
      abort(this.#reason as Error);
      return;
    }
    // Not connected yet: undici applies an abort only once connected (onConnect), which a host that
    // never answers the connection delays until undici's connect timeout. The exchange fails now;
    // the request is aborted if it ever connects.
    if (this.#finish()) this.#reject(this.#reason);
  };

  constructor(
    signal: AbortSignal,
    parseHeaders: ParseHeaders,
    resolve: (answer: WholeAnswer) => void,
    reject: (error: unknown) => void,
    onDispatched: (() => void) | undefined,
  ) {
    this.#signal = signal;
    this.#parseHeaders = parseHeaders;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onDispatched = onDispatched;
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
    if (this.#reason !== undefined) {
      abort(this.#reason as Error);
      return;
    }
    this.#abort = abort;
    this.#onDispatched?.();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    // 1xx answers (`100 Continue`) come before the real one.
    if (statusCode < 200) return true;
    this.#statusCode = statusCode;
    this.#rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (!this.#finish()) return;
    this.#resolve(new WholeAnswer(this.#statusCode, this.#rawHeaders, bodyText(this.#chunks), this.#parseHeaders));
  }

  onError(error: Error): void {
    if (this.#finish()) this.#reject(error);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#abort = undefined;
    this.#signal.removeEventListener('abort', this.#onAbort);
    return true;
  }
}
