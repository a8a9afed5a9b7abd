import type { LlmProviderName } from '../../config/variables.js';
import type { EmbedMethod } from '../embeddings/embed-method.js';
import type { ChatCompletion } from './chat-completion.js';
import type { ChatRequest } from './chat-request.js';
import type { ChatStreamEvent } from './chat-stream-event.js';

/**
 * The port every provider adapter implements. Adapters classify their failures as
 * `ProviderError`s and never retry by themselves. A refusal or filtered answer is an answer
 * (`finishReason: 'content_filter'`, `refusal`), not an error.
 */
export interface LlmProvider {
  readonly name: LlmProviderName;
  /** The model used when a request names none (for Azure: the deployment). */
  readonly defaultModel: string;
  /**
   * The request fields this provider cannot honour, by their OpenAI wire names (`logit_bias`,
   * `messages[2].content[0]` for an unsupported part…). Empty when it can send the whole request.
   * May be asynchronous (a provider whose module loads at first use).
   */
  unsupportedFields(request: ChatRequest): string[] | Promise<string[]>;
  /** One request, one answer. Aborting `signal` cancels the HTTP request. */
  complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion>;
  /** One request, streamed. Ends with a `done` event or throws; a stream cut short throws. */
  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
  /**
   * Embeddings: one request within the provider's per-request limits. Absent on providers
   * without an embeddings API (Anthropic); callers then fail with `EmbeddingsUnsupportedError`.
   */
  embed?: EmbedMethod;
  /** A cheap request that proves the provider answers with these credentials (doctor, health). */
  ping(signal: AbortSignal): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}
