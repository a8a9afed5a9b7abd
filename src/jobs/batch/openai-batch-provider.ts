import { randomUUID } from 'node:crypto';
import type { ChatCompletion as OpenAiCompletion } from 'openai/resources/chat/completions';
import { upstreamTarget } from '../../llm/http/upstream-client.js';
import { completionOf } from '../../llm/model/completion-of.js';
import type { OpenAiDialect } from '../../llm/providers/openai/openai-dialect.js';
import { toOpenAiParams } from '../../llm/providers/openai/openai-request.js';
import { mapOpenAiCompletion } from '../../llm/providers/openai/openai-response.js';
import type { ChatCompletion, ChatRequest } from '../../llm/types.js';
import type { BatchHttp } from './batch-http.js';
import { sendJson, sendText } from './batch-http.js';
import {
  type BatchLine,
  type BatchProvider,
  type ProviderBatchItem,
  type ProviderBatchOutcome,
  type ProviderBatchStatus,
  parseJsonLines,
} from './batch-provider.js';

/** Where an OpenAI-family Batch API lives. */
export interface OpenAiBatchOptions {
  name: 'openai' | 'azure';
  defaultModel: string;
  http: BatchHttp;
  dialect: OpenAiDialect;
  /** `https://api.openai.com/v1`, or Azure's `{endpoint}/openai`. */
  baseUrl: string;
  /** Azure's `api-version=…`. */
  query?: string;
  /** The `url` of each line and the batch's `endpoint`: `/v1/chat/completions` (OpenAI), `/chat/completions` (Azure). */
  endpoint: string;
}

/** Pages of the batch list read when looking for a batch submitted earlier (100 batches a page). */
const LIST_PAGES = 20;
/** How far the provider's clock may be behind this process's, when comparing creation times. */
const CLOCK_SKEW_MS = 5 * 60_000;

const OUTCOMES: Readonly<Record<string, ProviderBatchOutcome>> = {
  completed: 'completed',
  failed: 'failed',
  expired: 'expired',
  cancelled: 'cancelled',
};

/**
 * OpenAI's Batch API (and Azure OpenAI's, the same wire under `/openai/...?api-version=…`): the
 * lines go up as a JSON Lines file (`POST /files`, purpose `batch`), `POST /batches` starts it with
 * a 24 h window, `GET /batches/{id}` reads it, the output and error files hold the results,
 * `POST /batches/{id}/cancel` cancels it. Spoken over the same undici client as the live calls.
 */
export class OpenAiBatchProvider implements BatchProvider {
  readonly name: 'openai' | 'azure';
  readonly defaultModel: string;
  readonly #options: OpenAiBatchOptions;

  constructor(options: OpenAiBatchOptions) {
    this.name = options.name;
    this.defaultModel = options.defaultModel;
    this.#options = options;
  }

  body(request: ChatRequest, model: string): unknown {
    return toOpenAiParams(request, model, this.#options.dialect);
  }

  answerTool(): string | undefined {
    return undefined;
  }

  /** The line as the Batch API reads it. */
  line(line: BatchLine): Record<string, unknown> {
    return { custom_id: line.customId, method: 'POST', url: this.#options.endpoint, body: line.body };
  }

  async submit(lines: readonly BatchLine[], metadata: Record<string, string>, signal: AbortSignal): Promise<string> {
    const jsonl = `${lines.map((line) => JSON.stringify(this.line(line))).join('\n')}\n`;
    const boundary = `groundwork-${randomUUID()}`;
    const multipart = [
      `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="batch.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n${jsonl}\r\n`,
      `--${boundary}--\r\n`,
    ].join('');
    const file = (await sendJson(this.#options.http, this.#target('/files'), 'POST', multipart, signal, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    })) as { id?: unknown };
    if (typeof file?.id !== 'string') throw new Error('the Files API answered without a file id');
    const create = { input_file_id: file.id, endpoint: this.#options.endpoint, completion_window: '24h', metadata };
    const batch = (await sendJson(this.#options.http, this.#target('/batches'), 'POST', JSON.stringify(create), signal)) as {
      id?: unknown;
    };
    if (typeof batch?.id !== 'string') throw new Error('the Batch API answered without a batch id');
    return batch.id;
  }

  readonly findsSubmitted = true;

  /**
   * Reads the batch list (`GET /batches`, newest first, 100 a page) down to batches created
   * before `sinceMs` (less a few minutes for clocks that disagree), at most {@link LIST_PAGES} pages,
   * for one whose `metadata.groundwork_batch` is `batch`.
   */
  async findSubmitted(batch: string, sinceMs: number, signal: AbortSignal): Promise<string | undefined> {
    const oldest = Math.floor((sinceMs - CLOCK_SKEW_MS) / 1000);
    let after: string | undefined;
    for (let page = 0; page < LIST_PAGES; page++) {
      const query = `limit=100${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
      const list = (await sendJson(this.#options.http, this.#target('/batches', query), 'GET', undefined, signal)) as {
        data?: Array<{ id?: unknown; created_at?: unknown; metadata?: Record<string, unknown> | null }>;
        has_more?: unknown;
        last_id?: unknown;
      };
      const data = Array.isArray(list?.data) ? list.data : [];
      for (const entry of data) {
        if (entry.metadata?.['groundwork_batch'] === batch && typeof entry.id === 'string') return entry.id;
      }
      const last = data.at(-1);
      if (data.length === 0 || list.has_more !== true || typeof list.last_id !== 'string') return undefined;
      if (typeof last?.created_at === 'number' && last.created_at < oldest) return undefined;
      after = list.last_id;
    }
    return undefined;
  }

  async status(id: string, signal: AbortSignal): Promise<ProviderBatchStatus> {
    const batch = (await sendJson(
      this.#options.http,
      this.#target(`/batches/${encodeURIComponent(id)}`),
      'GET',
      undefined,
      signal,
    )) as Record<string, unknown>;
    const status = String(batch['status'] ?? 'unknown');
    const counts = (batch['request_counts'] ?? {}) as { total?: number; completed?: number; failed?: number };
    const outcome = OUTCOMES[status];
    const errors = (batch['errors'] as { data?: Array<{ code?: string; message?: string; line?: number }> } | null)?.data ?? [];
    const outputFileId = batch['output_file_id'];
    const errorFileId = batch['error_file_id'];
    return {
      id,
      state: outcome === undefined ? 'in_progress' : 'ended',
      ...(outcome === undefined ? {} : { outcome }),
      providerStatus: status,
      counts: { total: counts.total ?? 0, succeeded: counts.completed ?? 0, errored: counts.failed ?? 0 },
      ...(errors.length === 0
        ? {}
        : {
            error: errors
              .slice(0, 5)
              .map((error) => `${error.code ?? 'error'}${error.line === undefined ? '' : ` (line ${error.line})`}: ${error.message ?? ''}`)
              .join('; '),
          }),
      results: {
        ...(typeof outputFileId === 'string' ? { outputFileId } : {}),
        ...(typeof errorFileId === 'string' ? { errorFileId } : {}),
      },
    };
  }

  async results(status: ProviderBatchStatus, signal: AbortSignal): Promise<ProviderBatchItem[]> {
    const items: ProviderBatchItem[] = [];
    for (const fileId of [status.results.outputFileId, status.results.errorFileId]) {
      if (fileId === undefined) continue;
      const text = await sendText(this.#options.http, this.#target(`/files/${encodeURIComponent(fileId)}/content`), signal);
      for (const line of parseJsonLines(text)) items.push(itemOf(line as Record<string, unknown>));
    }
    return items;
  }

  async cancel(id: string, signal: AbortSignal): Promise<void> {
    await sendJson(this.#options.http, this.#target(`/batches/${encodeURIComponent(id)}/cancel`), 'POST', undefined, signal);
  }

  completion(body: unknown, model: string): ChatCompletion {
    return completionOf({ provider: this.name, ...mapOpenAiCompletion(body as OpenAiCompletion, model, this.name) });
  }

  close(): Promise<void> {
    return this.#options.http.client.close();
  }

  #target(path: string, query?: string) {
    const queries = [this.#options.query, query].filter((part): part is string => part !== undefined && part !== '');
    return upstreamTarget(this.#options.baseUrl, path, queries.length === 0 ? undefined : queries.join('&'));
  }
}

/** One line of an output or error file. */
function itemOf(line: Record<string, unknown>): ProviderBatchItem {
  const customId = String(line['custom_id'] ?? '');
  const response = line['response'] as { status_code?: number; request_id?: string; body?: unknown } | null | undefined;
  const error = line['error'] as { code?: string; message?: string } | null | undefined;
  if (response !== null && response !== undefined && response.status_code === 200) {
    return { customId, ok: true, body: response.body, ...(response.request_id === undefined ? {} : { requestId: response.request_id }) };
  }
  if (error !== null && error !== undefined) return { customId, ok: false, code: error.code ?? 'error', error: error.message ?? 'failed' };
  const bodyError = (response?.body as { error?: { code?: string | null; type?: string; message?: string } } | undefined)?.error;
  return {
    customId,
    ok: false,
    code: bodyError?.code ?? bodyError?.type ?? `http_${response?.status_code ?? 'unknown'}`,
    error: `${response?.status_code ?? 'failed'}: ${bodyError?.message ?? 'the request failed'}`,
  };
}
