import type { ChatMessage } from './chat-message.js';
import type { ResponseFormat } from './response-format.js';
import type { FunctionTool, ToolChoice } from './tool.js';

/** How hard a reasoning model thinks before it answers. */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/**
 * One request to a chat model, in Groundwork's provider-neutral shape: everything OpenAI's Chat
 * Completions API takes. Every stage of the call path carries it untouched; only a provider's
 * translator turns it into a wire body. A provider that cannot honour a field refuses the call
 * naming the field (or drops it visibly, with `LLM_DROP_UNSUPPORTED_PARAMS=true`).
 */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  topP?: number;
  /** Most tokens in the answer. Absent: the provider's own limit (nothing is sent, where the wire allows). */
  maxTokens?: number;
  /** Up to 4 sequences that end the answer. */
  stop?: string[];
  seed?: number;
  responseFormat?: ResponseFormat;
  /** Functions the model may call. */
  tools?: FunctionTool[];
  toolChoice?: ToolChoice;
  /** Whether the model may call several tools in one turn. */
  parallelToolCalls?: boolean;
  /** How many answers (choices) to generate. @default 1 */
  n?: number;
  /** Return each output token's log probability. */
  logprobs?: boolean;
  /** With `logprobs`: this many most likely alternatives per token (0–20). */
  topLogprobs?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Token id → bias from -100 to 100. */
  logitBias?: Record<string, number>;
  /** A stable id of the end user, for the provider's abuse monitoring. */
  user?: string;
  /** Up to 16 string pairs stored with the completion (OpenAI). */
  metadata?: Record<string, string>;
  /** Whether the provider stores the completion (OpenAI). */
  store?: boolean;
  serviceTier?: string;
  reasoningEffort?: ReasoningEffort;
  /** Answer length for models that take it (OpenAI's `verbosity`). */
  verbosity?: 'low' | 'medium' | 'high';
  /**
   * OpenAI Chat Completions fields Groundwork does not model (for example `modalities`, `audio`,
   * `prediction`, `web_search_options`), by their wire names. OpenAI-family upstreams receive them
   * verbatim, so a new field works without a new Groundwork; other providers refuse them by name.
   */
  passthrough?: Record<string, unknown>;
}
