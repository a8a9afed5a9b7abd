import type OpenAI from 'openai';
import type { ChatCompletion as OpenAiCompletion } from 'openai/resources/chat/completions';
import type { LlmProviderName } from '../../../config/variables.js';
import { completionOf } from '../../model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, FinishReason, LlmProvider, TokenUsage } from '../../types.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { mapOpenAiError } from './openai-errors.js';
import { mapFinishReason, type OpenAiDialect, toOpenAiParams } from './openai-request.js';
import { mapOpenAiUsage } from './openai-usage.js';

/** What an OpenAI-family provider is made of. */
export interface OpenAiChatOptions {
  name: LlmProviderName;
  defaultModel: string;
  /** The SDK client to use for the next request (rebuilt when the key rotates). */
  client: () => OpenAI;
  dialect: OpenAiDialect;
}

/** An {@link LlmProvider} over the OpenAI SDK's chat completions: OpenAI, Azure OpenAI and compatible servers. */
export class OpenAiChatProvider implements LlmProvider {
  readonly name: LlmProviderName;
  readonly defaultModel: string;
  readonly #options: OpenAiChatOptions;

  constructor(options: OpenAiChatOptions) {
    this.name = options.name;
    this.defaultModel = options.defaultModel;
    this.#options = options;
  }

  unsupportedFields(_request: ChatRequest): string[] {
    return [];
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const model = request.model || this.defaultModel;
    const context = { provider: this.name, model, signal };
    let answer: { data: OpenAiCompletion; request_id: string | null | undefined };
    try {
      const params = { ...toOpenAiParams(request, model, this.#options.dialect), stream: false as const };
      answer = await this.#options.client().chat.completions.create(params, { signal }).withResponse();
    } catch (error) {
      throw mapOpenAiError(error, context);
    }
    const requestId = answer.request_id ?? undefined;
    const choice = Array.isArray(answer.data?.choices) ? answer.data.choices[0] : undefined;
    if (choice === undefined || typeof choice.message !== 'object' || choice.message === null) {
      throw providerError('malformed_response', 'the answer has no choices', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    const finishReason = mapFinishReason(choice.finish_reason);
    this.#assertNotFiltered(finishReason, choice.message.refusal, model, requestId);
    return this.#completion(
      answer.data.model ?? model,
      choice.message.content ?? '',
      finishReason,
      mapOpenAiUsage(answer.data.usage),
      requestId,
    );
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const model = request.model || this.defaultModel;
    const context = { provider: this.name, model, signal };
    const params = {
      ...toOpenAiParams(request, model, this.#options.dialect),
      stream: true as const,
      stream_options: { include_usage: true },
    };
    let content = '';
    let finish: string | undefined;
    let refusal = '';
    let usage: TokenUsage | undefined;
    let answeredModel = model;
    let requestId: string | undefined;
    try {
      const answer = await this.#options.client().chat.completions.create(params, { signal }).withResponse();
      requestId = answer.request_id ?? undefined;
      for await (const chunk of answer.data) {
        if (chunk.usage) usage = mapOpenAiUsage(chunk.usage);
        if (typeof chunk.model === 'string' && chunk.model !== '') answeredModel = chunk.model;
        const choice = chunk.choices?.[0];
        const text = choice?.delta?.content;
        if (choice?.delta?.refusal) refusal += choice.delta.refusal;
        if (choice?.finish_reason) finish = choice.finish_reason;
        if (typeof text === 'string' && text !== '') {
          content += text;
          yield { type: 'delta', text };
        }
      }
    } catch (error) {
      throw mapOpenAiError(error, context);
    }
    if (signal.aborted) throw abortedError(signal, this.name, model);
    if (finish === undefined) {
      throw providerError('connection', 'the stream ended before the answer was complete', {
        provider: this.name,
        model,
        ...(requestId ? { requestId } : {}),
      });
    }
    const finishReason = mapFinishReason(finish);
    this.#assertNotFiltered(finishReason, refusal === '' ? null : refusal, model, requestId);
    const completion = this.#completion(answeredModel, content, finishReason, usage ?? mapOpenAiUsage(undefined), requestId);
    yield { type: 'done', completion };
  }

  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.#options.client().models.list({ signal });
    } catch (error) {
      throw mapOpenAiError(error, { provider: this.name, model: this.defaultModel, signal });
    }
  }

  #assertNotFiltered(finishReason: FinishReason, refusal: string | null | undefined, model: string, requestId: string | undefined): void {
    const facts = { provider: this.name, model, ...(requestId ? { requestId } : {}) };
    if (finishReason === 'content_filter')
      throw providerError('content_filter', 'the provider’s content filter withheld the answer', facts);
    if (refusal) throw providerError('content_filter', `the model refused: ${refusal}`, facts);
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
