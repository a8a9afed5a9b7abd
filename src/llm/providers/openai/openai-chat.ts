import type { ChatCompletionChunk, ChatCompletion as OpenAiCompletion } from 'openai/resources/chat/completions';
import type { LlmProviderName } from '../../../config/variables.js';
import type { EmbedMethod } from '../../embeddings/embed-method.js';
import type { UpstreamJson } from '../../http/upstream-client.js';
import { UpstreamStreamError } from '../../http/upstream-status-error.js';
import { type CompletionBase, completionOf } from '../../model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, LlmProvider } from '../../types.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { streamStart } from '../stream-start.js';
import type { OpenAiDialect } from './openai-dialect.js';
import { embedWithOpenAi, type OpenAiEmbeddingsOptions } from './openai-embeddings.js';
import { mapOpenAiError } from './openai-errors.js';
import type { OpenAiHttp } from './openai-http.js';
import { toOpenAiParams } from './openai-request.js';
import { mapOpenAiCompletion } from './openai-response.js';
import { OpenAiStreamAssembler } from './openai-stream-assembler.js';
import { openAiUnsupportedFields } from './openai-unsupported.js';

/** What an OpenAI-family provider is made of. */
export interface OpenAiChatOptions {
  name: LlmProviderName;
  defaultModel: string;
  /** How requests reach the server. */
  http: OpenAiHttp;
  dialect: OpenAiDialect;
  /** Embeddings through the same server; absent: the provider has none. */
  embeddings?: Omit<OpenAiEmbeddingsOptions, 'provider' | 'http'>;
}

/**
 * An {@link LlmProvider} over OpenAI's chat completions wire: OpenAI, Azure OpenAI and compatible
 * servers, spoken directly over HTTP (`UpstreamClient`): the body serialised once, a JSON answer
 * parsed once, a stream decoded and mapped chunk by chunk as it arrives. Every request field has an OpenAI wire form (unmodelled ones travel in
 * `passthrough`) but, for OpenAI and Azure, an earlier answer's images ({@link openAiUnsupportedFields}); the upstream itself answers 400 to what it lacks.
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
      const settings = { ...embeddings, provider: options.name, http: options.http };
      this.embed = (request, signal) => embedWithOpenAi(settings, request, signal);
    }
  }

  unsupportedFields(request: ChatRequest): string[] {
    return openAiUnsupportedFields(request, this.#options.dialect);
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const model = request.model || this.defaultModel;
    const http = this.#options.http;
    let answer: UpstreamJson;
    try {
      const params = toOpenAiParams(request, model, this.#options.dialect) as unknown as Record<string, unknown>;
      params['stream'] = false;
      const body = JSON.stringify(params);
      // Awaited only when the credentials are (an Azure token): a plain object needs no turn of the microtask queue.
      const headers = http.headers();
      answer = await http.client.json(http.chat(model), 'POST', headers instanceof Promise ? await headers : headers, body, signal);
    } catch (error) {
      throw mapOpenAiError(error, { provider: this.name, model, signal });
    }
    const requestId = answer.requestId;
    const data = answer.data as OpenAiCompletion | null;
    const choices: unknown = data?.choices;
    if (
      data === null ||
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
    return this.#completion(mapOpenAiCompletion(data, model, this.name), requestId, answer.rateLimitHeaders);
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const model = request.model || this.defaultModel;
    const http = this.#options.http;
    const params = toOpenAiParams(request, model, this.#options.dialect) as unknown as Record<string, unknown>;
    const requested = params['stream_options'] as Record<string, unknown> | null | undefined;
    params['stream'] = true;
    params['stream_options'] = { ...requested, include_usage: true };
    const assembler = new OpenAiStreamAssembler(model, this.name);
    let requestId: string | undefined;
    let limits: Record<string, string> | undefined;
    try {
      const answer = await http.client.stream(http.chat(model), await http.headers(), JSON.stringify(params), signal);
      requestId = answer.requestId;
      limits = answer.rateLimitHeaders;
      // The start waits for the answer's id, which the chunks carry, or for the first content.
      let started = false;
      let done = false;
      for await (const event of answer.events) {
        // Read to the end even after [DONE], so that the connection goes back to the pool.
        if (done) continue;
        if (event.data.startsWith('[DONE]')) {
          done = true;
          continue;
        }
        const chunk = JSON.parse(event.data) as ChatCompletionChunk & { error?: unknown };
        if (event.event === 'error' || (chunk !== null && typeof chunk === 'object' && chunk.error !== undefined && chunk.error !== null)) {
          throw new UpstreamStreamError(chunk?.error ?? chunk);
        }
        const events = assembler.accept(chunk);
        if (!started && (assembler.id !== undefined || events.length > 0)) {
          started = true;
          yield streamStart(limits, assembler.id, assembler.created, assembler.reportedModel);
        }
        yield* events;
      }
      if (!started) yield streamStart(limits, assembler.id, assembler.created, assembler.reportedModel);
    } catch (error) {
      throw mapOpenAiError(error, { provider: this.name, model, signal });
    }
    if (signal.aborted) throw abortedError(signal, this.name, model);
    if (!assembler.finished) {
      throw providerError('connection', 'the stream ended before every choice had finished', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    yield { type: 'done', completion: this.#completion(assembler.completion(), requestId, limits) };
  }

  async ping(signal: AbortSignal): Promise<void> {
    const http = this.#options.http;
    try {
      await http.client.json(http.models, 'GET', await http.headers(), undefined, signal);
    } catch (error) {
      throw mapOpenAiError(error, { provider: this.name, model: this.defaultModel, signal });
    }
  }

  /** Closes the pooled connections to the server. */
  close(): Promise<void> {
    return this.#options.http.client.close();
  }

  #completion(
    answer: Omit<CompletionBase, 'provider'>,
    requestId: string | undefined,
    limits: Record<string, string> | undefined,
  ): ChatCompletion {
    const completion = completionOf({ provider: this.name, ...answer });
    if (requestId !== undefined) completion.requestId = requestId;
    if (limits !== undefined) completion.rateLimitHeaders = limits;
    return completion;
  }
}
