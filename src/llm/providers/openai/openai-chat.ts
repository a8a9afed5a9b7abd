import type OpenAI from 'openai';
import type { ChatCompletion as OpenAiCompletion } from 'openai/resources/chat/completions';
import type { LlmProviderName } from '../../../config/variables.js';
import type { EmbedMethod } from '../../embeddings/embed-method.js';
import { type CompletionBase, completionOf } from '../../model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, LlmProvider } from '../../types.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { rateLimitHeaders } from '../rate-limit-headers.js';
import type { OpenAiDialect } from './openai-dialect.js';
import { embedWithOpenAi, type OpenAiEmbeddingsOptions } from './openai-embeddings.js';
import { mapOpenAiError } from './openai-errors.js';
import { toOpenAiParams } from './openai-request.js';
import { mapOpenAiCompletion } from './openai-response.js';
import { OpenAiStreamAssembler } from './openai-stream-assembler.js';

/** What an OpenAI-family provider is made of. */
export interface OpenAiChatOptions {
  name: LlmProviderName;
  defaultModel: string;
  /** The SDK client to use for the next request (rebuilt when the key rotates). */
  client: () => OpenAI;
  dialect: OpenAiDialect;
  /** Embeddings through the same server; absent: the provider has none. */
  embeddings?: Omit<OpenAiEmbeddingsOptions, 'provider'>;
}

/**
 * An {@link LlmProvider} over the OpenAI SDK's chat completions: OpenAI, Azure OpenAI and
 * compatible servers. Every request field has an OpenAI wire form (unmodelled ones travel in
 * `passthrough`), so nothing is unsupported here; the upstream itself answers 400 to what it lacks.
 * A refusal or a filtered answer is returned as an answer; only a filtered prompt (HTTP 400) is an error.
 */
export class OpenAiChatProvider implements LlmProvider {
  readonly name: LlmProviderName;
  readonly defaultModel: string;
  readonly embed?: EmbedMethod;
  readonly #options: OpenAiChatOptions;

  constructor(options: OpenAiChatOptions) {
    this.name = options.name;
    this.defaultModel = options.defaultModel;
    this.#options = options;
    const embeddings = options.embeddings;
    if (embeddings !== undefined) {
      const settings = { ...embeddings, provider: options.name };
      this.embed = (request, signal) => embedWithOpenAi(settings, request, signal);
    }
  }

  unsupportedFields(_request: ChatRequest): string[] {
    return [];
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const model = request.model || this.defaultModel;
    const context = { provider: this.name, model, signal };
    let answer: { data: OpenAiCompletion; response: Response; request_id: string | null | undefined };
    try {
      const params = { ...toOpenAiParams(request, model, this.#options.dialect), stream: false as const };
      answer = await this.#options.client().chat.completions.create(params, { signal }).withResponse();
    } catch (error) {
      throw mapOpenAiError(error, context);
    }
    const requestId = answer.request_id ?? undefined;
    const choices: unknown = answer.data?.choices;
    if (
      !Array.isArray(choices) ||
      choices.length === 0 ||
      choices.some((choice) => typeof choice?.message !== 'object' || choice.message === null)
    ) {
      throw providerError('malformed_response', 'the answer has no choices, or a choice without a message', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    return this.#completion(mapOpenAiCompletion(answer.data, model), requestId, answer.response.headers);
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const model = request.model || this.defaultModel;
    const context = { provider: this.name, model, signal };
    const base = toOpenAiParams(request, model, this.#options.dialect);
    const requested = (base as { stream_options?: Record<string, unknown> | null }).stream_options;
    const params = { ...base, stream: true as const, stream_options: { ...requested, include_usage: true } };
    const assembler = new OpenAiStreamAssembler(model);
    let requestId: string | undefined;
    let headers: Headers | undefined;
    try {
      const answer = await this.#options.client().chat.completions.create(params, { signal }).withResponse();
      requestId = answer.request_id ?? undefined;
      headers = answer.response.headers;
      const limits = rateLimitHeaders(headers);
      yield limits === undefined ? { type: 'start' } : { type: 'start', rateLimitHeaders: limits };
      for await (const chunk of answer.data) yield* assembler.accept(chunk);
    } catch (error) {
      throw mapOpenAiError(error, context);
    }
    if (signal.aborted) throw abortedError(signal, this.name, model);
    if (!assembler.finished) {
      throw providerError('connection', 'the stream ended before every choice had finished', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    yield { type: 'done', completion: this.#completion(assembler.completion(), requestId, headers) };
  }

  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.#options.client().models.list({ signal });
    } catch (error) {
      throw mapOpenAiError(error, { provider: this.name, model: this.defaultModel, signal });
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
