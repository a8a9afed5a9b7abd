import type Anthropic from '@anthropic-ai/sdk';
import type { Message } from '@anthropic-ai/sdk/resources/messages';
import type { Secret } from '../../../config/secret.js';
import { type CompletionBase, completionOf } from '../../model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { rateLimitHeaders } from '../rate-limit-headers.js';
import { streamStart } from '../stream-start.js';
import { mapAnthropicError } from './anthropic-errors.js';
import { toAnthropicTools } from './anthropic-prepare-tools.js';
import { toAnthropicParams } from './anthropic-request.js';
import { mapAnthropicMessage } from './anthropic-response.js';
import { loadAnthropicSdk } from './anthropic-sdk.js';
import { AnthropicStreamAssembler } from './anthropic-stream-assembler.js';
import { anthropicUnsupportedFields } from './anthropic-unsupported.js';

/** Settings of the Anthropic provider. */
export interface AnthropicProviderOptions {
  /** Read at each call, so a rotated key is used on the next request. */
  apiKey: Secret;
  model: string;
  /** @default 'https://api.anthropic.com' */
  baseUrl?: string | undefined;
  /**
   * `max_tokens` when a request sets none (Anthropic requires one; `LLM_MAX_OUTPUT_TOKENS`).
   * @default the model's own output maximum (see `anthropic-max-tokens.ts`)
   */
  defaultMaxTokens?: number | undefined;
  /** The SDK's own request timeout, a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

/**
 * The Anthropic provider, on the official SDK with its retries off. Tools, images, PDFs, extended
 * thinking and structured output (through a tool) are translated; what the Messages API cannot
 * honour is named by {@link AnthropicProvider.unsupportedFields}. A refusal is an answer
 * (`finishReason: 'content_filter'`, with whatever text came before it).
 */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  readonly defaultModel: string;
  readonly #options: AnthropicProviderOptions;
  #clients: KeyedClient<Anthropic> | undefined;

  constructor(options: AnthropicProviderOptions) {
    this.defaultModel = options.model;
    this.#options = options;
    // Start loading the SDK now, while the application starts, rather than inside the first call's
    // timeout; a failed load surfaces at that call.
    loadAnthropicSdk().catch(() => undefined);
  }

  async #client(): Promise<Anthropic> {
    const Sdk = await loadAnthropicSdk();
    const options = this.#options;
    this.#clients ??= new KeyedClient(
      (key) =>
        new Sdk({
          apiKey: key ?? '',
          authToken: null,
          baseURL: options.baseUrl ?? 'https://api.anthropic.com',
          maxRetries: 0,
          timeout: options.timeoutMs ?? 600_000,
          logLevel: 'off',
        }),
    );
    return this.#clients.get(options.apiKey.reveal());
  }

  unsupportedFields(request: ChatRequest): string[] {
    return anthropicUnsupportedFields(request, request.model || this.defaultModel, this.#options.defaultMaxTokens);
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const model = request.model || this.defaultModel;
    const params = toAnthropicParams(request, model, this.#options.defaultMaxTokens);
    let answer: { data: Message; response: Response; request_id: string | null | undefined };
    try {
      answer = await (await this.#client()).messages.create({ ...params, stream: false }, { signal }).withResponse();
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
    return this.#completion(mapAnthropicMessage(message, model, toAnthropicTools(request).answerTool), requestId, answer.response.headers);
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const model = request.model || this.defaultModel;
    const params = toAnthropicParams(request, model, this.#options.defaultMaxTokens);
    const assembler = new AnthropicStreamAssembler(model, toAnthropicTools(request).answerTool);
    let requestId: string | undefined;
    let headers: Headers | undefined;
    try {
      const answer = await (await this.#client()).messages.create({ ...params, stream: true }, { signal }).withResponse();
      requestId = answer.request_id ?? undefined;
      headers = answer.response.headers;
      const limits = rateLimitHeaders(headers);
      // The start waits for `message_start`, which names the message and the model, or for the first content.
      let started = false;
      for await (const event of answer.data) {
        const events = assembler.accept(event);
        if (!started && (assembler.id !== undefined || events.length > 0)) {
          started = true;
          yield streamStart(limits, assembler.id, undefined, assembler.reportedModel);
        }
        yield* events;
      }
      if (!started) yield streamStart(limits, assembler.id, undefined, assembler.reportedModel);
    } catch (error) {
      throw mapAnthropicError(error, { model, signal });
    }
    if (signal.aborted) throw abortedError(signal, this.name, model);
    if (!assembler.stopped) {
      throw providerError('connection', 'the stream ended before the answer was complete', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    yield { type: 'done', completion: this.#completion(assembler.completion(), requestId, headers) };
  }

  async ping(signal: AbortSignal): Promise<void> {
    try {
      await (await this.#client()).models.list({}, { signal });
    } catch (error) {
      throw mapAnthropicError(error, { model: this.defaultModel, signal });
    }
  }

  #completion(answer: Omit<CompletionBase, 'provider'>, requestId: string | undefined, headers: Headers | undefined): ChatCompletion {
    const completion = completionOf({ provider: this.name, ...answer });
    if (requestId !== undefined) completion.requestId = requestId;
    const limits = rateLimitHeaders(headers);
    if (limits !== undefined) completion.rateLimitHeaders = limits;
    return completion;
  }
}

/** Creates the Anthropic provider. */
export function createAnthropicProvider(options: AnthropicProviderOptions): LlmProvider {
  return new AnthropicProvider(options);
}
