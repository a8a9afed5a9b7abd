import type { Agent, Dispatcher } from 'undici';
import { exchangeEvents } from './event-exchange.js';
import { exchangeWhole, type ParseHeaders, type WholeAnswer } from './json-exchange.js';
import type { SseEvent } from './sse-decoder.js';
import type { UpstreamHeaders } from './upstream-headers.js';
import { UpstreamStatusError } from './upstream-status-error.js';

/** Where a request goes: the origin (`https://host:port`) and the path with its query. */
export interface UpstreamTarget {
  readonly origin: string;
  readonly path: string;
}

/** Splits `baseUrl` + `path` (+ `query`, without `?`) into an {@link UpstreamTarget}. */
export function upstreamTarget(baseUrl: string, path: string, query?: string): UpstreamTarget {
  const url = new URL(baseUrl);
  const base = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  const search = [url.search.slice(1), query ?? ''].filter((part) => part !== '').join('&');
  return { origin: url.origin, path: `${base}${path}${search === '' ? '' : `?${search}`}` };
}

/** Settings of an {@link UpstreamClient}. */
export interface UpstreamClientOptions {
  /**
   * How long to wait for an answer's headers, and then between two chunks of its body, in ms: a
   * backstop behind Groundwork's per-attempt timeout. @default 600000
   */
  timeoutMs?: number | undefined;
  /** How long an idle keep-alive connection is kept open, in ms. @default 4000 */
  keepAliveMs?: number | undefined;
}

/** A JSON answer: the parsed body, the headers, and the upstream's `x-request-id` and `x-ratelimit-*` headers. */
export interface UpstreamJson {
  readonly data: unknown;
  /** Every header; parsed when first read. */
  readonly headers: UpstreamHeaders;
  readonly requestId: string | undefined;
  /** OpenAI's and Azure's `x-ratelimit-*` headers as sent (as `rateLimitHeadersOf(headers)`); undefined when there are none. */
  readonly rateLimitHeaders: Record<string, string> | undefined;
}

/** An {@link UpstreamJson} whose headers are parsed only if something reads them. */
class JsonAnswer implements UpstreamJson {
  readonly data: unknown;
  readonly requestId: string | undefined;
  readonly rateLimitHeaders: Record<string, string> | undefined;
  readonly #answer: WholeAnswer;

  constructor(answer: WholeAnswer, data: unknown) {
    const facts = answer.facts();
    this.data = data;
    this.requestId = facts.requestId;
    this.rateLimitHeaders = facts.rateLimitHeaders;
    this.#answer = answer;
  }

  get headers(): UpstreamHeaders {
    return this.#answer.headers;
  }
}

/** A streamed answer: its headers, request id and rate-limit headers, and its server-sent events as they arrive. */
export interface UpstreamEventStream {
  /** Every header; parsed when first read. */
  readonly headers: UpstreamHeaders;
  readonly requestId: string | undefined;
  /** OpenAI's and Azure's `x-ratelimit-*` headers as sent (as `rateLimitHeadersOf(headers)`); undefined when there are none. */
  readonly rateLimitHeaders: Record<string, string> | undefined;
  /**
   * Ends when the body does; returning early (or breaking out of `for await`) aborts the request,
   * closing its connection. The body is read only as fast as the events are: while a few dozen wait
   * unread, the connection is paused.
   */
  readonly events: AsyncGenerator<SseEvent, void, undefined>;
}

type Undici = { readonly Agent: typeof Agent; readonly util: { readonly parseHeaders: unknown } };
let undici: Promise<Undici> | undefined;

/** undici, loaded when the first client is created: a process with no provider configured never loads it. */
function loadUndici(): Promise<Undici> {
  undici ??= import('undici');
  return undici;
}

/**
 * A lean HTTP client for JSON APIs over undici's dispatcher (its own handlers, not `request()`), one
 * keep-alive connection pool per origin: the body is sent as the string it was serialised to, a JSON
 * answer is parsed once, a stream is decoded event by event as its chunks arrive. An error status becomes an
 * {@link UpstreamStatusError}; network failures, timeouts (`UND_ERR_HEADERS_TIMEOUT`,
 * `UND_ERR_BODY_TIMEOUT`) and aborts surface as undici throws them, for the adapter to classify.
 * The listener put on `signal` is removed when the exchange ends.
 */
export class UpstreamClient {
  /** Set once undici has loaded; until then requests wait for {@link #loading}. */
  #agent: Agent | undefined;
  #parseHeaders: ParseHeaders | undefined;
  readonly #loading: Promise<Agent>;

  constructor(options: UpstreamClientOptions = {}) {
    const timeout = options.timeoutMs ?? 600_000;
    // Loading starts now, while the application starts, so that the first request does not wait for it.
    this.#loading = loadUndici().then(({ Agent, util }) => {
      this.#parseHeaders = util.parseHeaders as ParseHeaders;
      this.#agent = new Agent({ headersTimeout: timeout, bodyTimeout: timeout, keepAliveTimeout: options.keepAliveMs ?? 4_000 });
      return this.#agent;
    });
    this.#loading.catch(() => undefined); // a failed load surfaces at the first request
  }

  /**
   * Sends one request and parses its JSON answer; a `SyntaxError` when the answer is not JSON.
   * `onDispatched`, when given, is called once the request is about to be written: a failure
   * before that call sent nothing.
   */
  async json(
    target: UpstreamTarget,
    method: 'GET' | 'POST' | 'DELETE',
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
    onDispatched?: () => void,
  ): Promise<UpstreamJson> {
    const answer = succeeded(await this.#exchangeWhole(target, method, headers, body, signal, onDispatched));
    return new JsonAnswer(answer, JSON.parse(answer.text));
  }

  /** Sends one request and returns its answer as text (JSON Lines files, say). */
  async text(
    target: UpstreamTarget,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<{ text: string; headers: UpstreamHeaders; requestId: string | undefined }> {
    const answer = succeeded(await this.#exchangeWhole(target, method, headers, body, signal));
    return { text: answer.text, headers: answer.headers, requestId: answer.facts().requestId };
  }

  /**
   * Sends one request whose answer is a `text/event-stream`; resolves once its headers have come.
   * Not an async function, for the same reason as {@link #exchangeWhole}.
   */
  stream(target: UpstreamTarget, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<UpstreamEventStream> {
    const options: Dispatcher.DispatchOptions = { origin: target.origin, path: target.path, method: 'POST', headers, body };
    const agent = this.#agent;
    if (agent !== undefined) return exchangeEvents(agent, options, signal, this.#parseHeaders as ParseHeaders);
    return this.#loading.then((loaded) => exchangeEvents(loaded, options, signal, this.#parseHeaders as ParseHeaders));
  }

  /** Closes every pooled connection once its requests are over. Idempotent. */
  async close(): Promise<void> {
    const agent = this.#agent ?? (await this.#loading.catch(() => undefined));
    if (agent !== undefined && !agent.closed) await agent.close();
  }

  /**
   * Sends one request whose answer is read whole (JSON, text), whatever its status (see
   * {@link succeeded}). Not an async function: once undici has loaded, the exchange's own promise is
   * returned, without another promise and a turn of the microtask queue around it.
   */
  #exchangeWhole(
    target: UpstreamTarget,
    method: 'GET' | 'POST' | 'DELETE',
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
    onDispatched?: () => void,
  ): Promise<WholeAnswer> {
    const options: Dispatcher.DispatchOptions = { origin: target.origin, path: target.path, method, headers, body: body ?? null };
    const agent = this.#agent;
    if (agent !== undefined) return exchangeWhole(agent, options, signal, this.#parseHeaders as ParseHeaders, onDispatched);
    return this.#loading.then((loaded) => exchangeWhole(loaded, options, signal, this.#parseHeaders as ParseHeaders, onDispatched));
  }
}

/** The answer when its status is a success (2xx); else an {@link UpstreamStatusError}, as {@link UpstreamClient} throws for every error status. */
function succeeded(answer: WholeAnswer): WholeAnswer {
  if (answer.statusCode >= 200 && answer.statusCode < 300) return answer;
  throw new UpstreamStatusError(answer.statusCode, answer.headers, answer.text);
}
