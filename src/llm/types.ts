import type { LlmProviderName } from '../config/variables.js';

/** Who says a message. */
export type ChatRole = 'system' | 'user' | 'assistant';

/** One message of a conversation. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** How the answer must be shaped. */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean };

/** One request to a chat model, in Groundwork's provider-neutral shape. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  topP?: number;
  /** Most tokens in the answer. */
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  responseFormat?: ResponseFormat;
}

/** Token counts of one call, the same shape for every provider. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Prompt tokens served from the provider's prompt cache, where reported. */
  cachedPromptTokens?: number;
  /** Reasoning tokens inside `completionTokens`, where reported. */
  reasoningTokens?: number;
}

/** Why the model stopped. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'unknown';

/** A provider's complete answer. */
export interface ChatCompletion {
  provider: LlmProviderName;
  model: string;
  content: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  requestId?: string;
}

/** What a provider stream yields: text deltas, then exactly one `done` with the whole answer and usage. */
export type ChatStreamEvent = { type: 'delta'; text: string } | { type: 'done'; completion: ChatCompletion };

/**
 * The port every provider adapter implements. Adapters classify their failures as
 * `ProviderError`s and never retry by themselves.
 */
export interface LlmProvider {
  readonly name: LlmProviderName;
  /** The model used when a request names none (for Azure: the deployment). */
  readonly defaultModel: string;
  /** One request, one answer. Aborting `signal` cancels the HTTP request. */
  complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion>;
  /** One request, streamed. Ends with a `done` event or throws; a stream cut short throws. */
  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
  /** A cheap request that proves the provider answers with these credentials (doctor, health). */
  ping(signal: AbortSignal): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}
