import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { linkSignals } from '../internal/abort.js';
import { anthropicWire } from './fake-anthropic-wire.js';
import { FakeBatches } from './fake-batch-wire.js';
import { bedrockWire, fakeBedrockEmbeddingsBody } from './fake-bedrock-wire.js';
import type { FakeAnswer, FakeBehaviour, FakeHandler, RecordedRequest } from './fake-behaviour.js';
import { fakeEmbeddingsBody, invalidEmbeddingsInput } from './fake-embeddings.js';
import { fakeGeminiEmbeddingsBody, geminiWire } from './fake-gemini-wire.js';
import { openaiWire } from './fake-openai-wire.js';
import { type RespondContext, respond } from './fake-respond.js';
import { type FakeStoreAnswer, FakeStoredResponses } from './fake-responses-store.js';
import { responsesWire } from './fake-responses-wire.js';
import { AUTH_HEADERS, credentialOf, type FakeRoute, routeOf } from './fake-route.js';
import type { WireContext, WireFormat } from './fake-wire.js';

/** Options of {@link FakeProviderServer}. */
export interface FakeProviderServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an ephemeral port) */
  port?: number;
  /**
   * Accept only requests carrying one of these keys; others are refused as their provider refuses a
   * wrong key (401 on OpenAI's, Azure's and Anthropic's wires, Gemini's 400 `API_KEY_INVALID`,
   * Bedrock's 403 `UnrecognizedClientException`). Bedrock's key is the access key id. @default any key, or none
   */
  apiKeys?: readonly string[];
  /** Record credentials (headers, and Gemini's `key` query parameter) as sent instead of `[redacted]`. @default false */
  keepAuthHeaders?: boolean;
  /** How to answer when the queue is empty. @default answer `ok` */
  handler?: FakeHandler;
  /** Model ids listed by `GET /v1/models`. @default ['fake-model'] */
  models?: readonly string[];
  /** What the ids of the responses the Responses API makes start with, so that two servers never make the same id. @default 'resp_fake_' */
  responseIdPrefix?: string;
}

/**
 * A real HTTP server that speaks OpenAI chat completions (JSON and SSE, with usage), Azure OpenAI's
 * deployment paths (`/openai/deployments/{deployment}/chat/completions?api-version=…`), embeddings
 * (`/v1/embeddings` and Azure's `/openai/deployments/{deployment}/embeddings`: deterministic unit vectors
 * seeded by each input's hash, float or base64, with usage; faults from the same queue), the
 * Responses API (`POST /v1/responses` and Azure's `/openai/v1/responses`: a `Response` or its
 * `response.*` events; responses not sent with `store: false` are kept for
 * `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}`, `POST /v1/responses/{id}/cancel` and
 * `GET /v1/responses/{id}/input_items`, an unknown id is a 404; `background: true` answers `queued`,
 * completed on a later read or on demand, see {@link FakeStoredResponses}, and with `store: false` is a 400 as at OpenAI; faults from the same queue), Anthropic's
 * messages API (JSON and SSE), Google Gemini's `generateContent` and `streamGenerateContent` (the
 * Gemini API's and Vertex AI's paths, {@link FakeProviderServer.geminiBaseUrl}), Bedrock's Converse
 * API (`converse` and `converse-stream`, {@link FakeProviderServer.bedrockEndpoint}) and the Batch
 * APIs ({@link FakeProviderServer.batches}), on an ephemeral port. Answers can call tools (streamed
 * as argument deltas the way each provider streams them), refuse, give several choices with log
 * probabilities, and carry `system_fingerprint`, `service_tier` and rate-limit headers (see
 * {@link FakeAnswer}).
 *
 * Each request takes the next scripted behaviour from a queue ({@link FakeProviderServer.enqueue}),
 * else asks the handler, which sees the request (use `toolResultsOf` to answer a tool-result turn),
 * else answers `ok`. The handler is asked about every request, the models listing, embeddings and
 * reads of stored responses included, and a handler that throws answers 500 with its message: one
 * written for chat bodies should check `request.path` or `request.body` first. Every request is recorded, body included, to assert on what was sent.
 * Chat bodies the real services refuse are refused first, as they are: a JSON response mime type
 * beside tools on Gemini before 3, a `developer` message on Azure API versions before 2024-12-01-preview;
 * so is an embeddings input OpenAI and Azure refuse (missing or empty, or a list holding an empty item).
 *
 * @example
 * ```ts
 * const fake = await new FakeProviderServer().start();
 * fake.enqueue({ type: 'error', status: 429, retryAfter: 1 }, { type: 'answer', json: { word: 'hallo' } });
 * const client = new OpenAI({ apiKey: 'test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
 * // … exercise the code under test, then:
 * expect(fake.requests).toHaveLength(2);
 * await fake.close();
 * ```
 */
export class FakeProviderServer {
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[] = [];
  /**
   * The Batch APIs (OpenAI's and Azure's files and batches, Anthropic's Message Batches): settings
   * (`pollsBeforeEnd`, `manual`) and controls (`complete()`, `endNext()`, `failCreate()`). Each line
   * is answered from the same queue and handler as live requests.
   */
  readonly batches: FakeBatches;
  /**
   * The responses the Responses API keeps (not sent with `store: false`): settings of background
   * responses (`readsBeforeEnd`, `manual`) and `complete()` to finish one on demand.
   */
  readonly responses = new FakeStoredResponses();
  readonly #options: FakeProviderServerOptions;
  readonly #queue: FakeBehaviour[] = [];
  readonly #sockets = new Set<Socket>();
  /** Aborts every exchange in progress when the server closes; a new one for each start. */
  #closing = new AbortController();
  /** The listen of a start() under way. */
  #starting: Promise<void> | undefined;
  readonly #credentials = new WeakMap<RecordedRequest, string>();
  readonly #waiters: Array<{ count: number; resolve: () => void }> = [];
  /** Who waits for a request's caller to close its exchange before the answer ended. */
  readonly #cut = new WeakMap<RecordedRequest, Array<{ resolve: () => void; reject: (error: Error) => void }>>();
  /** How each exchange that is over ended: cut before the whole answer was sent, or answered whole. */
  readonly #ended = new WeakMap<RecordedRequest, 'cut' | 'whole'>();
  #handler: FakeHandler | undefined;
  #server: Server | undefined;
  #url: string | undefined;
  #counter = 0;

  constructor(options: FakeProviderServerOptions = {}) {
    this.#options = options;
    this.#handler = options.handler;
    this.batches = new FakeBatches({
      behaviourFor: async (request) => this.#queue.shift() ?? (await this.#askHandler(request)) ?? { type: 'answer' },
      url: () => this.url,
    });
  }

  /**
   * Starts listening; resolves with the server itself. A server closed with {@link close} can start
   * again (on a new ephemeral port unless `port` is set); one that is listening cannot.
   */
  async start(): Promise<this> {
    if (this.#server !== undefined || this.#starting !== undefined) {
      throw new Error(`FakeProviderServer is already started${this.#url === undefined ? '' : ` at ${this.#url}`}; close() it first`);
    }
    if (this.#closing.signal.aborted) this.#closing = new AbortController();
    // Every exchange in progress listens to it (and stops when it ends).
    setMaxListeners(0, this.#closing.signal);
    const server = createServer((request, response) => {
      this.#handle(request, response).catch(() => response.destroy());
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#starting = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    try {
      await this.#starting;
    } finally {
      this.#starting = undefined;
    }
    const address = server.address() as AddressInfo;
    this.#server = server;
    this.#url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    return this;
  }

  /** The server's origin, e.g. `http://127.0.0.1:53211`. */
  get url(): string {
    if (this.#url === undefined) throw new Error('FakeProviderServer is not started; call start() first');
    return this.#url;
  }

  /** Base URL for the OpenAI SDK and OpenAI-compatible clients (`…/v1`). */
  get openaiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  /** Endpoint for the `AzureOpenAI` client. */
  get azureEndpoint(): string {
    return this.url;
  }

  /** Base URL for the Anthropic SDK. */
  get anthropicBaseUrl(): string {
    return this.url;
  }

  /** Base URL for the Google Gen AI SDK (`httpOptions.baseUrl`), for the Gemini API and Vertex AI alike. */
  get geminiBaseUrl(): string {
    return this.url;
  }

  /** Endpoint for the Bedrock runtime client (`endpoint`, with any static credentials). */
  get bedrockEndpoint(): string {
    return this.url;
  }

  /** Scripts the next requests, one behaviour each, in order. */
  enqueue(...behaviours: FakeBehaviour[]): this {
    this.#queue.push(...behaviours);
    return this;
  }

  /** Sets how requests are answered once the queue is empty (undefined: answer `ok`). */
  setHandler(handler: FakeHandler | undefined): this {
    this.#handler = handler;
    return this;
  }

  /** Behaviours still queued. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Forgets recorded requests and queued behaviours, restarts request ids at 1, and restores the constructor's handler. */
  reset(): void {
    this.requests.length = 0;
    this.#counter = 0;
    this.#queue.length = 0;
    this.responses.reset();
    this.batches.reset();
    this.#handler = this.#options.handler;
  }

  /**
   * Resolves with `request` once its caller closes the exchange before the whole answer was sent (a
   * request it aborted), or at once if it already has; rejects if the whole answer was sent.
   */
  cutByCaller(request: RecordedRequest): Promise<RecordedRequest> {
    const ended = this.#ended.get(request);
    if (ended === 'cut') return Promise.resolve(request);
    if (ended === 'whole') return Promise.reject(answeredWhole(request));
    return new Promise((resolve, reject) => {
      const waiting = this.#cut.get(request) ?? [];
      waiting.push({ resolve: () => resolve(request), reject });
      this.#cut.set(request, waiting);
    });
  }

  /** Resolves once `count` requests in all have been received. */
  waitForRequests(count: number): Promise<RecordedRequest[]> {
    if (this.requests.length >= count) return Promise.resolve(this.requests);
    return new Promise((resolve) => this.#waiters.push({ count, resolve: () => resolve(this.requests) }));
  }

  /** Ends every exchange in progress, closes every socket and stops listening. Idempotent. */
  async close(): Promise<void> {
    // A start() under way is let finish, so that the server it makes is closed too.
    if (this.#starting !== undefined) await this.#starting.catch(() => undefined);
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    this.#closing.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const recorded = await this.#record(request);
    if (this.batches.matches(recorded.method, recorded.path)) {
      const keys = this.#options.apiKeys;
      const requestId = `req_fake_${++this.#counter}`;
      if (keys !== undefined && !keys.includes(this.#credentials.get(recorded) ?? '')) {
        return this.batches.refuseKey(recorded, requestId, response);
      }
      return this.batches.handle(recorded, requestId, response);
    }
    const route = routeOf(recorded.method, recorded.path, lowerHeaders(request));
    const id = ++this.#counter;
    const exchange = new AbortController();
    const linked = linkSignals(exchange.signal, this.#closing.signal);
    response.on('close', () => {
      const whole = response.writableFinished;
      this.#ended.set(recorded, whole ? 'whole' : 'cut');
      for (const waiter of this.#cut.get(recorded) ?? []) whole ? waiter.reject(answeredWhole(recorded)) : waiter.resolve();
      this.#cut.delete(recorded);
      exchange.abort();
      linked.dispose();
    });
    const signal = linked.signal;
    const wire = wireOf(route);
    const base = { request, response, wire, stream: recorded.stream, requestId: `req_fake_${id}`, signal };
    const body = (recorded.body ?? {}) as Record<string, unknown>;
    const context = {
      id: answerId(wire, id, this.#options.responseIdPrefix),
      created: Math.floor(Date.now() / 1000),
      model: modelOf(body, recorded),
      body,
    };
    const rejection = this.#reject(recorded, route);
    if (rejection !== undefined) return respond({ ...base, context }, rejection);
    const invalid =
      route.kind === 'chat'
        ? wire.invalidRequest?.(body, context.model)
        : route.kind === 'embeddings' && (route.wire === 'openai' || route.wire === 'azure')
          ? invalidEmbeddingsInput(body)
          : undefined;
    if (invalid !== undefined) return respond({ ...base, context }, { type: 'error', status: 400, message: invalid });
    const behaviour = this.#queue.shift() ?? (await this.#askHandler(recorded)) ?? { type: 'answer' };
    if (behaviour.type === 'answer' && behaviour.model !== undefined) context.model = behaviour.model;
    if (behaviour.type === 'answer' && behaviour.created !== undefined) context.created = behaviour.created;
    if ((route.kind === 'chat' || route.kind === 'responses') && wire !== bedrockWire && sendsAnswer(behaviour, recorded.stream)) {
      recorded.answerId = context.id;
      if (wire === openaiWire || wire === responsesWire) recorded.answerCreated = context.created;
    }
    if (route.kind === 'models') {
      const models = this.#options.models ?? ['fake-model'];
      const list = route.gemini
        ? {
            models: models.map((model) => ({
              name: `models/${model}`,
              displayName: model,
              supportedGenerationMethods: ['generateContent'],
            })),
          }
        : route.anthropic
          ? {
              data: models.map((model) => ({ type: 'model', id: model, display_name: model, created_at: '2025-01-01T00:00:00Z' })),
              has_more: false,
            }
          : { object: 'list', data: models.map((model) => ({ id: model, object: 'model', created: 0, owned_by: 'groundwork' })) };
      return respond({ ...base, stream: false, context, answerOverride: list }, behaviour);
    }
    if (route.kind === 'response' && behaviour.type === 'answer') {
      return this.#answerStored(base, context, this.responses.read(route.id));
    }
    if (route.kind === 'response-cancel' && behaviour.type === 'answer') {
      return this.#answerStored(base, context, this.responses.cancel(route.id));
    }
    if (route.kind === 'response-delete' && behaviour.type === 'answer') {
      return this.#answerStored(base, context, this.responses.delete(route.id));
    }
    if (route.kind === 'response-input-items' && behaviour.type === 'answer') {
      return this.#answerStored(base, context, this.responses.inputItems(route.id, recorded.query));
    }
    if (route.kind === 'responses' && behaviour.type === 'answer' && body['store'] !== false) {
      const made = this.responses.keep(responsesWire.answerBody(context, behaviour) as Record<string, unknown>, body, recorded.stream);
      if (!recorded.stream) return respond({ ...base, context, answerOverride: made }, behaviour);
    }
    if (route.kind === 'embeddings') {
      const answer = behaviour.type === 'answer' ? embeddingsBody(route, body, context.model, behaviour) : undefined;
      return respond({ ...base, stream: false, context, ...(answer === undefined ? {} : { answerOverride: answer }) }, behaviour);
    }
    return respond({ ...base, context }, behaviour);
  }

  /** Answers a request for a kept response: its body, or OpenAI's error. */
  #answerStored(base: Omit<RespondContext, 'context'>, context: WireContext, answer: FakeStoreAnswer): Promise<void> {
    if (answer.status === 200) return respond({ ...base, stream: false, context, answerOverride: answer.body }, { type: 'answer' });
    return respond({ ...base, stream: false, context }, { type: 'error', status: answer.status, message: answer.message });
  }

  /** The handler's behaviour; a handler that throws answers 500 with its message, rather than resetting the connection. */
  async #askHandler(recorded: RecordedRequest): Promise<FakeBehaviour | undefined> {
    try {
      return await this.#handler?.(recorded);
    } catch (error) {
      return { type: 'error', status: 500, message: `The fake provider's handler threw: ${(error as Error).message}` };
    }
  }

  /** A behaviour that refuses the request before any script runs: unknown path, missing api-version, wrong key. */
  #reject(recorded: RecordedRequest, route: FakeRoute): FakeBehaviour | undefined {
    if (route.kind === 'unknown') return { type: 'error', status: 404, message: `No route for ${recorded.method} ${recorded.path}` };
    if ((route.kind === 'chat' || route.kind === 'embeddings') && route.wire === 'azure' && recorded.query['api-version'] === undefined) {
      return { type: 'error', status: 404, message: 'Resource not found: the api-version query parameter is required' };
    }
    const keys = this.#options.apiKeys;
    if (keys !== undefined && !keys.includes(this.#credentials.get(recorded) ?? '')) return keyRefusal(route);
    if (route.kind === 'chat') {
      const refusal = wireRefusal(recorded);
      if (refusal !== undefined) return { type: 'error', status: 400, message: refusal };
    }
    // As OpenAI: a background response is polled, so it must be stored.
    const body = recorded.body as { background?: unknown; store?: unknown } | undefined;
    if (route.kind === 'responses' && body?.background === true && body.store === false) {
      return { type: 'error', status: 400, message: 'Background mode requires store=true.' };
    }
    return undefined;
  }

  async #record(request: IncomingMessage): Promise<RecordedRequest> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const url = new URL(request.url ?? '/', 'http://fake');
    const headers = lowerHeaders(request);
    // Gemini's REST API takes the key in the query string too (`?key=`).
    const credential = credentialOf(headers) ?? url.searchParams.get('key') ?? undefined;
    const recordedHeaders = { ...headers };
    const query = Object.fromEntries(url.searchParams);
    if (this.#options.keepAuthHeaders !== true) {
      for (const name of AUTH_HEADERS) if (name in recordedHeaders) recordedHeaders[name] = '[redacted]';
      if ('key' in query) query['key'] = '[redacted]';
    }
    const route = routeOf(request.method ?? 'GET', url.pathname, headers);
    const recorded: RecordedRequest = {
      wire: this.batches.matches(request.method ?? 'GET', url.pathname)
        ? batchWireOf(url.pathname)
        : route.kind === 'models' || route.kind === 'unknown'
          ? 'models'
          : route.wire,
      method: request.method ?? 'GET',
      path: url.pathname,
      query,
      headers: recordedHeaders,
      body,
      stream:
        route.kind === 'chat' && route.stream !== undefined
          ? route.stream
          : typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true,
      ...((route.kind === 'chat' || route.kind === 'embeddings') && route.deployment !== undefined ? { deployment: route.deployment } : {}),
      ...((route.kind === 'chat' || route.kind === 'embeddings') && route.model !== undefined ? { model: route.model } : {}),
    };
    if (credential !== undefined) this.#credentials.set(recorded, credential);
    this.requests.push(recorded);
    for (const waiter of this.#waiters.filter((entry) => this.requests.length >= entry.count)) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return recorded;
  }
}

function answeredWhole(request: RecordedRequest): Error {
  return new Error(`${request.method} ${request.path} was answered whole: its caller did not cut the exchange`);
}

/** The error each provider answers a key it does not accept with. */
function keyRefusal(route: FakeRoute): FakeBehaviour {
  const wire =
    route.kind === 'models'
      ? route.gemini === true
        ? 'gemini'
        : route.anthropic
          ? 'anthropic'
          : 'openai'
      : route.kind === 'unknown'
        ? 'openai'
        : route.wire;
  switch (wire) {
    case 'gemini':
      return { type: 'error', status: 400, code: 'API_KEY_INVALID', message: 'API key not valid. Please pass a valid API key.' };
    case 'bedrock':
      return {
        type: 'error',
        status: 403,
        code: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      };
    case 'anthropic':
      return { type: 'error', status: 401, message: 'invalid x-api-key' };
    case 'azure':
      return {
        type: 'error',
        status: 401,
        message:
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      };
    default:
      return { type: 'error', status: 401, code: 'invalid_api_key', message: 'Incorrect API key provided.' };
  }
}

/** The provider a Batch API path belongs to. */
function batchWireOf(path: string): 'openai' | 'azure' | 'anthropic' {
  if (path.startsWith('/openai/')) return 'azure';
  return path.startsWith('/v1/messages/') ? 'anthropic' : 'openai';
}

function lowerHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function modelOf(body: Record<string, unknown>, recorded: RecordedRequest): string {
  if (recorded.model !== undefined) return recorded.model;
  return typeof body['model'] === 'string' ? body['model'] : (recorded.deployment ?? 'fake-model');
}

/** The wire format that answers `route`. */
function wireOf(route: FakeRoute): WireFormat {
  if (route.kind === 'models' && route.gemini === true) return geminiWire;
  if (route.kind.startsWith('response')) return responsesWire;
  if (route.kind !== 'chat' && route.kind !== 'embeddings') return openaiWire;
  if (route.wire === 'anthropic') return anthropicWire;
  if (route.wire === 'gemini') return geminiWire;
  if (route.wire === 'bedrock') return bedrockWire;
  return openaiWire;
}

/** Whether `behaviour` sends (part of) an answer, and so its id: a stream it cuts, leaves hanging or breaks does. */
function sendsAnswer(behaviour: FakeBehaviour, stream: boolean): boolean {
  if (behaviour.type === 'answer' || behaviour.type === 'cut-stream') return true;
  if (behaviour.type === 'malformed') return stream;
  return behaviour.type === 'hang' && stream && behaviour.afterChunks !== undefined;
}

/** The answer's id in the wire's own style. */
function answerId(wire: WireFormat, id: number, responsePrefix = 'resp_fake_'): string {
  if (wire === anthropicWire) return `msg_fake_${id}`;
  if (wire === geminiWire) return `resp_fake_${id}`;
  if (wire === bedrockWire) return `req_fake_${id}`;
  if (wire === responsesWire) return `${responsePrefix}${id}`;
  return `chatcmpl-fake-${id}`;
}

/** An embeddings answer in the route's wire format. */
function embeddingsBody(
  route: Extract<FakeRoute, { kind: 'embeddings' }>,
  body: Record<string, unknown>,
  model: string,
  behaviour: FakeAnswer,
): unknown {
  if (route.wire === 'gemini') return fakeGeminiEmbeddingsBody(body, model, route.method ?? 'batchEmbedContents');
  if (route.wire === 'bedrock') return fakeBedrockEmbeddingsBody(body, model, behaviour);
  return fakeEmbeddingsBody(body, model, behaviour);
}

/** Creates and starts a {@link FakeProviderServer}. */
export function startFakeProviderServer(options: FakeProviderServerOptions = {}): Promise<FakeProviderServer> {
  return new FakeProviderServer(options).start();
}

/**
 * A chat body the real service answers 400: Gemini before 3 with a JSON response mime type beside
 * function declarations, Azure API versions before 2024-12-01-preview with a `developer` message.
 */
function wireRefusal(recorded: RecordedRequest): string | undefined {
  const body = recorded.body as Record<string, unknown> | undefined;
  if (recorded.wire === 'gemini') {
    const config = body?.['generationConfig'] as { responseMimeType?: unknown } | undefined;
    const version = /gemini-(\d+)/.exec(recorded.model ?? '');
    if (config?.responseMimeType === 'application/json' && Array.isArray(body?.['tools']) && Number(version?.[1] ?? 0) < 3)
      return "Tool use with a response mime type: 'application/json' is unsupported";
  }
  if (recorded.wire === 'azure') {
    const version = recorded.query['api-version'] ?? '';
    const messages = Array.isArray(body?.['messages']) ? (body['messages'] as Array<{ role?: unknown }>) : [];
    if (/^\d/.test(version) && version.slice(0, 10) < '2024-12-01' && messages.some((message) => message.role === 'developer'))
      return "Invalid value: 'developer'. Supported values are: 'system', 'assistant', 'user', 'function', and 'tool'.";
  }
  return undefined;
}
