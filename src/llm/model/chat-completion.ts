import type { LlmProviderName } from '../../config/variables.js';
import type { FinishReason } from './finish-reason.js';
import type { ChoiceLogprobs } from './logprobs.js';
import type { ReasoningBlock } from './reasoning-block.js';
import type { TokenUsage } from './token-usage.js';
import type { ToolCall } from './tool-call.js';

/** What the model said in one choice. */
export interface AnswerMessage {
  /** The text; null when the model only called tools or refused. */
  content: string | null;
  toolCalls?: ToolCall[];
  /** The model's refusal, in its own words. */
  refusal?: string;
  /**
   * The reasoning the provider needs back when the conversation goes on (see {@link ReasoningBlock}):
   * repeat it on the assistant message that carries this answer (`AssistantMessage.reasoning`).
   */
  reasoning?: ReasoningBlock[];
  /** Answer fields Groundwork does not model (OpenAI's `audio`, `annotations`…), verbatim. */
  passthrough?: Record<string, unknown>;
}

/** One of the `n` answers. */
export interface ChatChoice {
  index: number;
  message: AnswerMessage;
  finishReason: FinishReason;
  logprobs?: ChoiceLogprobs;
}

/**
 * A provider's complete answer. `content`, `finishReason`, `toolCalls` and `refusal` are the first
 * choice's, for the common case of one answer; `choices` holds every choice, the first included.
 */
export interface ChatCompletion {
  provider: LlmProviderName;
  model: string;
  /** The first choice's text ('' when it has none). */
  content: string;
  finishReason: FinishReason;
  /** The first choice's tool calls. */
  toolCalls?: ToolCall[];
  /** The first choice's refusal. */
  refusal?: string;
  /** The first choice's reasoning blocks, to repeat on the assistant message (see {@link AnswerMessage.reasoning}). */
  reasoning?: ReasoningBlock[];
  choices: ChatChoice[];
  usage: TokenUsage;
  /** The HTTP request id the provider gave (for support tickets). */
  requestId?: string;
  /** The provider's id of the answer (`chatcmpl-…`, `msg_…`). */
  id?: string;
  /** When the provider made the answer, in Unix seconds. */
  created?: number;
  systemFingerprint?: string;
  /** The service tier that actually served the request. */
  serviceTier?: string;
  /** The provider's rate-limit headers (`x-ratelimit-*`, `anthropic-ratelimit-*`), as it sent them. */
  rateLimitHeaders?: Record<string, string>;
}
