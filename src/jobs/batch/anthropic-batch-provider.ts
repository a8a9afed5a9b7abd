import type { Message } from '@anthropic-ai/sdk/resources/messages';
import { upstreamTarget } from '../../llm/http/upstream-client.js';
import { completionOf } from '../../llm/model/completion-of.js';
import { toAnthropicTools } from '../../llm/providers/anthropic/anthropic-prepare-tools.js';
import { toAnthropicParams } from '../../llm/providers/anthropic/anthropic-request.js';
import { mapAnthropicMessage } from '../../llm/providers/anthropic/anthropic-response.js';
import type { ChatCompletion, ChatRequest } from '../../llm/types.js';
import type { BatchHttp } from './batch-http.js';
import { sendJson, sendText } from './batch-http.js';
import { type BatchLine, type BatchProvider, type ProviderBatchItem, type ProviderBatchStatus, parseJsonLines } from './batch-provider.js';

/** Where Anthropic's Message Batches API lives. */
export interface AnthropicBatchOptions {
  defaultModel: string;
  http: BatchHttp;
  /** @default 'https://api.anthropic.com' */
  baseUrl: string;
  /** `max_tokens` when a request sets none (`LLM_MAX_OUTPUT_TOKENS`). */
  defaultMaxTokens: number | undefined;
}

/**
 * Anthropic's Message Batches API over plain HTTP (the same undici client as OpenAI's batches, so
 * one transport, one error mapping and one secrets path serve every batch):
 * `POST /v1/messages/batches` with `{ custom_id, params }` requests, `GET /v1/messages/batches/{id}`,
 * the results JSON Lines at `results_url`, `POST /v1/messages/batches/{id}/cancel`.
 */
export class AnthropicBatchProvider implements BatchProvider {
  readonly name = 'anthropic' as const;
  readonly defaultModel: string;
  readonly #options: AnthropicBatchOptions;

  constructor(options: AnthropicBatchOptions) {
    this.defaultModel = options.defaultModel;
    this.#options = options;
  }

  body(request: ChatRequest, model: string): unknown {
    return toAnthropicParams(request, model, this.#options.defaultMaxTokens);
  }

  answerTool(request: ChatRequest): string | undefined {
    return toAnthropicTools(request).answerTool;
  }

  async submit(lines: readonly BatchLine[], _metadata: Record<string, string>, signal: AbortSignal): Promise<string> {
    const body = JSON.stringify({ requests: lines.map((line) => ({ custom_id: line.customId, params: line.body })) });
    const batch = (await sendJson(this.#options.http, this.#target('/v1/messages/batches'), 'POST', body, signal)) as { id?: unknown };
    if (typeof batch?.id !== 'string') throw new Error('the Message Batches API answered without a batch id');
    return batch.id;
  }

  readonly findsSubmitted = false;

  /**
   * Always undefined: a Message Batch carries no metadata, and its requests' `custom_id`s can be
   * read only from its results, once it has ended, so nothing marks a batch as this one's while it
   * runs. A submit whose answer was lost is sent again (see the README's duplicate window).
   */
  async findSubmitted(): Promise<string | undefined> {
    return undefined;
  }

  async status(id: string, signal: AbortSignal): Promise<ProviderBatchStatus> {
    const path = `/v1/messages/batches/${encodeURIComponent(id)}`;
    const batch = (await sendJson(this.#options.http, this.#target(path), 'GET', undefined, signal)) as Record<string, unknown>;
    const status = String(batch['processing_status'] ?? 'unknown');
    const counts = (batch['request_counts'] ?? {}) as Record<string, number | undefined>;
    const total = ['processing', 'succeeded', 'errored', 'canceled', 'expired'].reduce((sum, key) => sum + (counts[key] ?? 0), 0);
    const ended = status === 'ended';
    const outcome =
      (counts['expired'] ?? 0) > 0
        ? 'expired'
        : batch['cancel_initiated_at'] !== null && batch['cancel_initiated_at'] !== undefined
          ? 'cancelled'
          : 'completed';
    const resultsUrl = batch['results_url'];
    return {
      id,
      state: ended ? 'ended' : 'in_progress',
      ...(ended ? { outcome } : {}),
      providerStatus: status,
      counts: {
        total,
        succeeded: counts['succeeded'] ?? 0,
        errored: (counts['errored'] ?? 0) + (counts['canceled'] ?? 0) + (counts['expired'] ?? 0),
      },
      results: typeof resultsUrl === 'string' ? { resultsUrl } : {},
    };
  }

  async results(status: ProviderBatchStatus, signal: AbortSignal): Promise<ProviderBatchItem[]> {
    const url = status.results.resultsUrl;
    if (url === undefined) return [];
    const parsed = new URL(url);
    const text = await sendText(this.#options.http, { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }, signal);
    return parseJsonLines(text).map((line) => itemOf(line as Record<string, unknown>));
  }

  async cancel(id: string, signal: AbortSignal): Promise<void> {
    await sendJson(this.#options.http, this.#target(`/v1/messages/batches/${encodeURIComponent(id)}/cancel`), 'POST', undefined, signal);
  }

  completion(body: unknown, model: string, answerTool: string | undefined): ChatCompletion {
    return completionOf({ provider: 'anthropic', ...mapAnthropicMessage(body as Message, model, answerTool) });
  }

  close(): Promise<void> {
    return this.#options.http.client.close();
  }

  #target(path: string) {
    return upstreamTarget(this.#options.baseUrl, path);
  }
}

/** One line of the results file. */
function itemOf(line: Record<string, unknown>): ProviderBatchItem {
  const customId = String(line['custom_id'] ?? '');
  const result = (line['result'] ?? {}) as { type?: string; message?: unknown; error?: { error?: { type?: string; message?: string } } };
  if (result.type === 'succeeded') return { customId, ok: true, body: result.message };
  if (result.type === 'errored') {
    const error = result.error?.error;
    return { customId, ok: false, code: error?.type ?? 'errored', error: error?.message ?? 'the request failed' };
  }
  if (result.type === 'canceled')
    return { customId, ok: false, code: 'batch_cancelled', error: 'the batch was cancelled before this request ran' };
  if (result.type === 'expired') return { customId, ok: false, code: 'batch_expired', error: 'the batch expired before this request ran' };
  return { customId, ok: false, code: 'unknown_result', error: `an unknown result type: ${String(result.type)}` };
}
