import type { ServerResponse } from 'node:http';
import { anthropicWire } from './fake-anthropic-wire.js';
import {
  anthropicBatchBody,
  anthropicResultsText,
  type FakeBatch,
  type FakeBatchEnd,
  fileObject,
  linesDone,
  now,
  openAiBatchBody,
} from './fake-batch-bodies.js';
import type { FakeBehaviour, FakeError, RecordedRequest } from './fake-behaviour.js';
import { openaiWire } from './fake-openai-wire.js';

export type { FakeBatchEnd } from './fake-batch-bodies.js';

/** How the fake server's Batch APIs behave; change it at any time through `fake.batches`. */
export interface FakeBatchSettings {
  /** Status reads that still see the batch in progress before it ends. @default 0: the first read sees it ended */
  pollsBeforeEnd: number;
  /** Never end by itself: only `complete()` ends it. @default false */
  manual: boolean;
}

/** What the batch endpoints need from the server. */
export interface FakeBatchHost {
  /** The behaviour of one line: the server's queue, else its handler, else `answer`. */
  behaviourFor(request: RecordedRequest): Promise<FakeBehaviour>;
  url(): string;
}

const OPENAI_FILES = /^(\/openai|\/v1)\/files\/?$/;
const OPENAI_FILE_CONTENT = /^(\/openai|\/v1)\/files\/([^/]+)\/content\/?$/;
const OPENAI_BATCHES = /^(\/openai|\/v1)\/batches\/?$/;
const OPENAI_BATCH = /^(\/openai|\/v1)\/batches\/([^/]+)(\/cancel)?\/?$/;
const ANTHROPIC_BATCHES = /^\/v1\/messages\/batches\/?$/;
const ANTHROPIC_BATCH = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?\/?$/;

/**
 * The Batch APIs of the fake provider server: OpenAI's and Azure's files and batches
 * (`/v1/files`, `/v1/batches`, and `/openai/files`, `/openai/batches` with `api-version`) and
 * Anthropic's Message Batches (`/v1/messages/batches`). Each line is answered when the batch is
 * created, with the same behaviour a live request would get (the server's queue, else its handler,
 * which sees the line as a request, else `ok`): an `error` behaviour makes that line fail. The
 * batch ends after `pollsBeforeEnd` status reads, or on `complete()`; `endNext()` makes the next
 * batch fail or expire; `failCreate()` scripts errors for the next creations; `loseCreateAnswer()`
 * makes the next creations succeed but cut the connection before answering (the provider has the
 * batch, the client never hears of it), `holdCreateAnswer()` makes them succeed and never answer; cancel works as the providers say (answered items kept, the
 * others cancelled). Both wires list their batches, newest first (`GET /v1/batches?limit&after`,
 * `GET /v1/messages/batches?limit&after_id`), a listing counting as no status read.
 */
export class FakeBatches {
  readonly settings: FakeBatchSettings = { pollsBeforeEnd: 0, manual: false };
  readonly #host: FakeBatchHost;
  readonly #files = new Map<string, { id: string; filename: string; purpose: string; bytes: number; createdAt: number; content: string }>();
  readonly #batches = new Map<string, FakeBatch>();
  readonly #createFaults: FakeError[] = [];
  readonly #listFaults: FakeError[] = [];
  #lostAnswers = 0;
  #heldAnswers = 0;
  readonly #held: ServerResponse[] = [];
  #nextEnd: FakeBatchEnd | undefined;
  #counter = 0;

  constructor(host: FakeBatchHost) {
    this.#host = host;
  }

  /**
   * The next `count` batch creations (on either wire) make their batch and then close the
   * connection without an answer: the client sees a network error, the provider holds the batch.
   */
  loseCreateAnswer(count = 1): this {
    this.#lostAnswers += count;
    return this;
  }

  /**
   * The next `count` batch creations make their batch and then never answer (until `reset()`):
   * the provider holds the batch while its client waits, as a worker killed at that moment would.
   */
  holdCreateAnswer(count = 1): this {
    this.#heldAnswers += count;
    return this;
  }

  /** The next batch creations answer these errors, one each (on either wire). */
  failCreate(...errors: Array<Omit<FakeError, 'type'>>): this {
    this.#createFaults.push(...errors.map((error) => ({ ...error, type: 'error' as const })));
    return this;
  }

  /** The next batch listings answer these errors, one each (on either wire). */
  failList(...errors: Array<Omit<FakeError, 'type'>>): this {
    this.#listFaults.push(...errors.map((error) => ({ ...error, type: 'error' as const })));
    return this;
  }

  /** The next batch created ends this way. */
  endNext(end: FakeBatchEnd): this {
    this.#nextEnd = end;
    return this;
  }

  /** Ends a batch (every one in progress when no id is given). */
  complete(id?: string): void {
    for (const batch of this.#batches.values()) if (id === undefined || batch.id === id) this.#end(batch);
  }

  /** Ids of the batches created so far, oldest first. */
  get ids(): string[] {
    return [...this.#batches.keys()];
  }

  /** Forgets every file and batch and restores the settings. */
  reset(): void {
    this.#files.clear();
    this.#batches.clear();
    this.#createFaults.length = 0;
    this.#listFaults.length = 0;
    this.#lostAnswers = 0;
    this.#heldAnswers = 0;
    for (const response of this.#held.splice(0)) response.socket?.destroy();
    this.#nextEnd = undefined;
    this.settings.pollsBeforeEnd = 0;
    this.settings.manual = false;
  }

  /** Whether a request goes to a Batch API endpoint. */
  matches(method: string, path: string): boolean {
    if ((method === 'POST' || method === 'GET') && (OPENAI_BATCHES.test(path) || ANTHROPIC_BATCHES.test(path))) return true;
    if (method === 'POST' && OPENAI_FILES.test(path)) return true;
    if (OPENAI_FILE_CONTENT.test(path) || ANTHROPIC_BATCH.test(path)) return true;
    return OPENAI_BATCH.test(path);
  }

  /** Answers a Batch API request whose key is not accepted: 401 in its wire's error shape, as its other endpoints answer. */
  refuseKey(recorded: RecordedRequest, requestId: string, response: ServerResponse): void {
    const body =
      ANTHROPIC_BATCHES.test(recorded.path) || ANTHROPIC_BATCH.test(recorded.path)
        ? anthropicWire.errorBody(401, undefined, 'invalid x-api-key')
        : openaiWire.errorBody(401, 'invalid_api_key', 'Incorrect API key provided.');
    json(response, 401, body, requestId);
  }

  /** Answers one Batch API request. */
  async handle(recorded: RecordedRequest, requestId: string, response: ServerResponse): Promise<void> {
    const { method, path } = recorded;
    const azure = path.startsWith('/openai/');
    if (azure && recorded.query['api-version'] === undefined) {
      return json(
        response,
        404,
        openaiWire.errorBody(404, undefined, 'Resource not found: the api-version query parameter is required'),
        requestId,
      );
    }
    if (method === 'POST' && OPENAI_FILES.test(path)) return this.#upload(recorded, requestId, response);
    const content = method === 'GET' ? OPENAI_FILE_CONTENT.exec(path) : null;
    if (content !== null) {
      const file = this.#files.get(decodeURIComponent(content[2] ?? ''));
      if (file === undefined) return json(response, 404, openaiWire.errorBody(404, undefined, 'No such File object'), requestId);
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'x-request-id': requestId });
      response.end(file.content);
      return;
    }
    if (method === 'POST' && OPENAI_BATCHES.test(path)) return this.#createOpenAi(recorded, azure, requestId, response);
    const listFault =
      method === 'GET' && (OPENAI_BATCHES.test(path) || ANTHROPIC_BATCHES.test(path)) ? this.#listFaults.shift() : undefined;
    if (listFault !== undefined) {
      const wire = ANTHROPIC_BATCHES.test(path) ? anthropicWire : openaiWire;
      return errorAnswer(
        response,
        listFault,
        wire.errorBody(listFault.status, listFault.code, listFault.message ?? 'Scripted failure'),
        requestId,
      );
    }
    if (method === 'GET' && OPENAI_BATCHES.test(path)) {
      const page = this.#page(azure ? 'azure' : 'openai', recorded.query['limit'], recorded.query['after'], 100);
      return json(
        response,
        200,
        { object: 'list', data: page.batches.map(openAiBatchBody), first_id: page.firstId, last_id: page.lastId, has_more: page.hasMore },
        requestId,
      );
    }
    if (method === 'GET' && ANTHROPIC_BATCHES.test(path)) {
      const page = this.#page('anthropic', recorded.query['limit'], recorded.query['after_id'], 1000);
      const data = page.batches.map((batch) => anthropicBatchBody(batch, this.#host.url()));
      return json(response, 200, { data, first_id: page.firstId, last_id: page.lastId, has_more: page.hasMore }, requestId);
    }
    const openai = OPENAI_BATCH.exec(path);
    if (openai !== null) {
      const batch = this.#batches.get(decodeURIComponent(openai[2] ?? ''));
      if (batch === undefined || batch.wire === 'anthropic')
        return json(response, 404, openaiWire.errorBody(404, undefined, 'No such batch'), requestId);
      if (openai[3] !== undefined) {
        if (method !== 'POST') return json(response, 405, openaiWire.errorBody(405, undefined, 'Method not allowed'), requestId);
        this.#cancel(batch);
      } else this.#read(batch);
      return json(response, 200, openAiBatchBody(batch), requestId);
    }
    if (method === 'POST' && ANTHROPIC_BATCHES.test(path)) return this.#createAnthropic(recorded, requestId, response);
    const match = ANTHROPIC_BATCH.exec(path);
    if (match !== null) {
      const batch = this.#batches.get(decodeURIComponent(match[1] ?? ''));
      if (batch === undefined || batch.wire !== 'anthropic')
        return json(response, 404, anthropicWire.errorBody(404, 'not_found_error', 'No such batch'), requestId);
      if (match[2] === '/results') {
        if (!batch.ended) return json(response, 400, anthropicWire.errorBody(400, undefined, 'The batch has not ended yet'), requestId);
        response.writeHead(200, { 'content-type': 'application/binary', 'request-id': requestId });
        response.end(anthropicResultsText(batch));
        return;
      }
      if (match[2] === '/cancel') this.#cancel(batch);
      else this.#read(batch);
      return json(response, 200, anthropicBatchBody(batch, this.#host.url()), requestId);
    }
    return json(response, 404, openaiWire.errorBody(404, undefined, `No route for ${method} ${path}`), requestId);
  }

  /** One page of a wire's batches, newest first, after the batch `after` (a cursor from a previous page). */
  #page(wire: FakeBatch['wire'], limit: string | undefined, after: string | undefined, most: number) {
    const all = [...this.#batches.values()].filter((batch) => batch.wire === wire).reverse();
    const start = after === undefined ? 0 : all.findIndex((batch) => batch.id === after) + 1;
    const size = Math.min(most, Math.max(1, Number(limit ?? 20) || 20));
    const batches = start === 0 && after !== undefined ? [] : all.slice(start, start + size);
    return {
      batches,
      firstId: batches[0]?.id ?? null,
      lastId: batches.at(-1)?.id ?? null,
      hasMore: batches.length > 0 && start + batches.length < all.length,
    };
  }

  /** Whether this creation's answer is held back or lost (the batch is made either way). */
  #loseAnswer(response: ServerResponse): boolean {
    if (this.#heldAnswers > 0) {
      this.#heldAnswers -= 1;
      this.#held.push(response);
      return true;
    }
    if (this.#lostAnswers === 0) return false;
    this.#lostAnswers -= 1;
    response.socket?.destroy();
    return true;
  }

  #upload(recorded: RecordedRequest, requestId: string, response: ServerResponse): void {
    const text = typeof recorded.body === 'string' ? recorded.body : '';
    const boundary = /boundary=([^;]+)/.exec(recorded.headers['content-type'] ?? '')?.[1];
    const parts = boundary === undefined ? [] : text.split(`--${boundary}`);
    let purpose: string | undefined;
    let content: string | undefined;
    let filename = 'file';
    for (const part of parts) {
      const split = part.indexOf('\r\n\r\n');
      if (split < 0) continue;
      const head = part.slice(0, split);
      const value = part.slice(split + 4).replace(/\r\n$/, '');
      const name = /name="([^"]+)"/.exec(head)?.[1];
      if (name === 'purpose') purpose = value;
      if (name === 'file') {
        content = value;
        filename = /filename="([^"]+)"/.exec(head)?.[1] ?? filename;
      }
    }
    const problems = [...(purpose === undefined ? ['purpose'] : []), ...(content === undefined ? ['file'] : [])];
    if (problems.length > 0) {
      json(response, 400, openaiWire.errorBody(400, undefined, `Missing multipart field(s): ${problems.join(', ')}`), requestId);
      return;
    }
    const id = `file-fake${++this.#counter}`;
    const file = {
      id,
      filename,
      purpose: purpose ?? 'batch',
      bytes: Buffer.byteLength(content ?? ''),
      createdAt: now(),
      content: content ?? '',
    };
    this.#files.set(id, file);
    json(response, 200, fileObject(file), requestId);
  }

  async #createOpenAi(recorded: RecordedRequest, azure: boolean, requestId: string, response: ServerResponse): Promise<void> {
    const fault = this.#createFaults.shift();
    if (fault !== undefined)
      return errorAnswer(response, fault, openaiWire.errorBody(fault.status, fault.code, fault.message ?? 'Scripted failure'), requestId);
    const body = (recorded.body ?? {}) as Record<string, unknown>;
    const file = this.#files.get(String(body['input_file_id'] ?? ''));
    if (file === undefined || body['completion_window'] !== '24h' || typeof body['endpoint'] !== 'string') {
      return json(
        response,
        400,
        openaiWire.errorBody(
          400,
          'invalid_request',
          'input_file_id must name an uploaded file, endpoint must be set and completion_window must be 24h',
        ),
        requestId,
      );
    }
    const lines: FakeBatch['lines'] = [];
    for (const text of file.content.split('\n').filter((line) => line.trim() !== '')) {
      const line = JSON.parse(text) as { custom_id: string; url: string; body: Record<string, unknown> };
      const deployment = azure ? String(line.body['model'] ?? '') : undefined;
      lines.push({ customId: line.custom_id, answer: await this.#answer(azure ? 'azure' : 'openai', line.body, deployment) });
    }
    const batch = this.#newBatch(
      azure ? 'azure' : 'openai',
      String(body['endpoint']),
      file.id,
      lines,
      body['metadata'] as Record<string, string> | undefined,
    );
    if (this.#loseAnswer(response)) return;
    json(response, 200, openAiBatchBody(batch), requestId);
  }

  async #createAnthropic(recorded: RecordedRequest, requestId: string, response: ServerResponse): Promise<void> {
    const fault = this.#createFaults.shift();
    if (fault !== undefined)
      return errorAnswer(
        response,
        fault,
        anthropicWire.errorBody(fault.status, fault.code, fault.message ?? 'Scripted failure'),
        requestId,
      );
    const requests = ((recorded.body ?? {}) as { requests?: Array<{ custom_id: string; params: Record<string, unknown> }> }).requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      return json(response, 400, anthropicWire.errorBody(400, undefined, 'requests: must be a non-empty list'), requestId);
    }
    const lines: FakeBatch['lines'] = [];
    for (const request of requests)
      lines.push({ customId: request.custom_id, answer: await this.#answer('anthropic', request.params, undefined) });
    const batch = this.#newBatch('anthropic', '/v1/messages', '', lines, undefined);
    if (this.#loseAnswer(response)) return;
    json(response, 200, anthropicBatchBody(batch, this.#host.url()), requestId);
  }

  /** The answer to one line, as the live endpoint would give it. */
  async #answer(
    wire: 'openai' | 'azure' | 'anthropic',
    body: Record<string, unknown>,
    deployment: string | undefined,
  ): Promise<FakeBatch['lines'][number]['answer']> {
    const request: RecordedRequest = {
      wire,
      method: 'POST',
      path: wire === 'anthropic' ? '/v1/messages' : '/v1/chat/completions',
      query: {},
      headers: {},
      body,
      stream: false,
      ...(deployment === undefined ? {} : { deployment }),
    };
    const behaviour = await this.#host.behaviourFor(request);
    const id = ++this.#counter;
    const model = typeof body['model'] === 'string' ? body['model'] : 'fake-model';
    if (behaviour.type === 'answer') {
      const format = wire === 'anthropic' ? anthropicWire : openaiWire;
      const context = {
        id: wire === 'anthropic' ? `msg_fake_b${id}` : `chatcmpl-fake-b${id}`,
        created: behaviour.created ?? Math.floor(Date.now() / 1000),
        model,
        body,
      };
      return { ok: true, body: format.answerBody(context, behaviour) };
    }
    const status = behaviour.type === 'error' ? behaviour.status : 500;
    const code =
      behaviour.type === 'error' ? (behaviour.code ?? (status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error')) : 'server_error';
    const message = behaviour.type === 'error' ? (behaviour.message ?? 'Scripted failure') : `The line failed (${behaviour.type})`;
    return { ok: false, status, code, message };
  }

  #newBatch(
    wire: FakeBatch['wire'],
    endpoint: string,
    inputFileId: string,
    lines: FakeBatch['lines'],
    metadata: Record<string, string> | undefined,
  ): FakeBatch {
    const id = wire === 'anthropic' ? `msgbatch_fake${++this.#counter}` : `batch_fake${++this.#counter}`;
    const batch: FakeBatch = {
      id,
      wire,
      endpoint,
      inputFileId,
      createdAt: now(),
      lines,
      reads: 0,
      end: this.#nextEnd ?? 'completed',
      status: 'in_progress',
      outcome: undefined,
      endedAt: undefined,
      ended: false,
      metadata,
      outputFileId: undefined,
      errorFileId: undefined,
    };
    this.#nextEnd = undefined;
    this.#batches.set(id, batch);
    return batch;
  }

  /** One status read: the batch ends once enough reads have seen it running (or at a cancel). */
  #read(batch: FakeBatch): void {
    if (batch.ended) return;
    if (batch.status === 'cancelling') {
      this.#end(batch, 'cancelled');
      return;
    }
    batch.reads += 1;
    if (!this.settings.manual && batch.reads > this.settings.pollsBeforeEnd) this.#end(batch);
  }

  #cancel(batch: FakeBatch): void {
    if (!batch.ended) batch.status = 'cancelling';
  }

  #end(batch: FakeBatch, outcome: FakeBatch['outcome'] = batch.end): void {
    if (batch.ended) return;
    batch.ended = true;
    batch.status = 'ended';
    batch.outcome = outcome;
    batch.endedAt = now();
    if (batch.wire === 'anthropic' || outcome === 'failed') return;
    const done = linesDone(batch);
    const output = done.filter((line) => line.answer.ok);
    const errors = done.filter((line) => !line.answer.ok);
    const expired = outcome === 'expired' ? batch.lines.filter((line) => !done.includes(line)) : [];
    const record = (line: FakeBatch['lines'][number]) => {
      const answer = line.answer;
      const response = answer.ok
        ? { status_code: 200, request_id: `req_fake_b${++this.#counter}`, body: answer.body }
        : {
            status_code: answer.status,
            request_id: `req_fake_b${++this.#counter}`,
            body: openaiWire.errorBody(answer.status, answer.code, answer.message),
          };
      return { id: `batch_req_fake${++this.#counter}`, custom_id: line.customId, response, error: null };
    };
    const expiredLine = (line: FakeBatch['lines'][number]) => ({
      id: `batch_req_fake${++this.#counter}`,
      custom_id: line.customId,
      response: null,
      error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
    });
    if (output.length > 0) batch.outputFileId = this.#storeFile(output.map(record), 'batch_output');
    const errorLines = [...errors.map(record), ...expired.map(expiredLine)];
    if (errorLines.length > 0) batch.errorFileId = this.#storeFile(errorLines, 'batch_output');
  }

  #storeFile(lines: unknown[], purpose: string): string {
    const id = `file-fake${++this.#counter}`;
    const content = `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
    this.#files.set(id, { id, filename: `${id}.jsonl`, purpose, bytes: Buffer.byteLength(content), createdAt: now(), content });
    return id;
  }
}

function json(response: ServerResponse, status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId, 'request-id': requestId, ...headers });
  response.end(JSON.stringify(body));
}

function errorAnswer(response: ServerResponse, fault: FakeError, body: unknown, requestId: string): void {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  json(response, fault.status, body, requestId, headers);
}
