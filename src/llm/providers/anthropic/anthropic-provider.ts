import Anthropic from '@anthropic-ai/sdk';
import type { Message } from '@anthropic-ai/sdk/resources/messages';
import type { Secret } from '../../../config/secret.js';
import { completionOf } from '../../model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, FinishReason, LlmProvider, TokenUsage } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { mapAnthropicError } from './anthropic-errors.js';
import { forcesTool, mapStopReason, toAnthropicParams } from './anthropic-request.js';
import { mapAnthropicUsage } from './anthropic-usage.js';

/** Settings of the Anthropic provider. */
export interface AnthropicProviderOptions {
  /** Read at each call, so a rotated key is used on the next request. */
  apiKey: Secret;
  model: string;
  /** @default 'https://api.anthropic.com' */
  baseUrl?: string | undefined;
  /** `max_tokens` when a request sets none (Anthropic requires one). @default 1024 */
  defaultMaxTokens?: number | undefined;
  /** The SDK's own request timeout, a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

/** The Anthropic provider, on the official SDK with its retries off. Structured output uses a forced tool call. */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  readonly defaultModel: string;
  readonly #options: AnthropicProviderOptions;
  readonly #clients: KeyedClient<Anthropic>;

  constructor(options: AnthropicProviderOptions) {
    this.defaultModel = options.model;
    this.#options = options;
    this.#clients = new KeyedClient(
      (key) =>
        new Anthropic({
          apiKey: key ?? '',
          authToken: null,
          baseURL: options.baseUrl ?? 'https://api.anthropic.com',
          maxRetries: 0,
          timeout: options.timeoutMs ?? 600_000,
          logLevel: 'off',
        }),
    );
  }

  #client(): Anthropic {
    return this.#clients.get(this.#options.apiKey.reveal());
  }

  unsupportedFields(_request: ChatRequest): string[] {
    return [];
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const model = request.model || this.defaultModel;
    const params = toAnthropicParams(request, model, this.#options.defaultMaxTokens ?? 1024);
    let answer: { data: Message; request_id: string | null | undefined };
    try {
      answer = await this.#client()
        .messages.create({ ...params, stream: false }, { signal })
        .withResponse();
    } catch (error) {
      throw mapAnthropicError(error, { model, signal });
    }
    const requestId = answer.request_id ?? undefined;
    const message = answer.data;
    if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) {
      throw providerError('malformed_response', 'the answer has no content', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    const forced = forcesTool(params);
    const tool = message.content.find((block) => block.type === 'tool_use');
    const content =
      forced && tool !== undefined
        ? JSON.stringify(tool.input)
        : message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    const finishReason = mapStopReason(message.stop_reason, forced);
    this.#assertNotFiltered(finishReason, model, requestId);
    return this.#completion(message.model ?? model, content, finishReason, mapAnthropicUsage(message.usage), requestId);
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const model = request.model || this.defaultModel;
    const params = toAnthropicParams(request, model, this.#options.defaultMaxTokens ?? 1024);
    let content = '';
    let stopReason: string | null | undefined;
    let stopped = false;
    let answeredModel = model;
    let usage = mapAnthropicUsage(undefined);
    let requestId: string | undefined;
    try {
      const answer = await this.#client()
        .messages.create({ ...params, stream: true }, { signal })
        .withResponse();
      requestId = answer.request_id ?? undefined;
      for await (const event of answer.data) {
        if (event.type === 'message_start') {
          answeredModel = event.message.model ?? model;
          usage = mapAnthropicUsage(event.message.usage);
        } else if (event.type === 'content_block_delta') {
          const text =
            event.delta.type === 'text_delta' ? event.delta.text : event.delta.type === 'input_json_delta' ? event.delta.partial_json : '';
          if (text !== '') {
            content += text;
            yield { type: 'delta', text };
          }
        } else if (event.type === 'message_delta') {
          stopReason = event.delta.stop_reason;
          usage = mapAnthropicUsage({ ...usageFields(usage), output_tokens: event.usage.output_tokens });
        } else if (event.type === 'message_stop') {
          stopped = true;
        }
      }
    } catch (error) {
      throw mapAnthropicError(error, { model, signal });
    }
    if (signal.aborted) throw abortedError(signal, this.name, model);
    if (!stopped) {
      throw providerError('connection', 'the stream ended before the answer was complete', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    const finishReason = mapStopReason(stopReason, forcesTool(params));
    this.#assertNotFiltered(finishReason, model, requestId);
    yield { type: 'done', completion: this.#completion(answeredModel, content, finishReason, usage, requestId) };
  }

  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.#client().models.list({}, { signal });
    } catch (error) {
      throw mapAnthropicError(error, { model: this.defaultModel, signal });
    }
  }

  #assertNotFiltered(finishReason: FinishReason, model: string, requestId: string | undefined): void {
    if (finishReason === 'content_filter') {
      throw providerError('content_filter', 'the model declined to answer (refusal)', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
  }

  #completion(
    model: string,
    content: string,
    finishReason: FinishReason,
    usage: TokenUsage,
    requestId: string | undefined,
  ): ChatCompletion {
    const completion = completionOf({ provider: this.name, model, choices: [{ index: 0, message: { content }, finishReason }], usage });
    if (requestId !== undefined) completion.requestId = requestId;
    return completion;
  }
}

/** Back from {@link TokenUsage} to Anthropic's fields, to update the output count mid-stream. */
function usageFields(usage: TokenUsage): { input_tokens: number; cache_read_input_tokens: number } {
  const cached = usage.cachedPromptTokens ?? 0;
  return { input_tokens: usage.promptTokens - cached, cache_read_input_tokens: cached };
}

/** Creates the Anthropic provider. */
export function createAnthropicProvider(options: AnthropicProviderOptions): LlmProvider {
  return new AnthropicProvider(options);
}
