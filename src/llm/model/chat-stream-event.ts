import type { ChatCompletion } from './chat-completion.js';
import type { ChoiceLogprobs } from './logprobs.js';

/** A piece of a choice's text. `choice` is the choice's index (0 unless `n` > 1). */
export interface TextDelta {
  type: 'delta';
  text: string;
  choice?: number;
}

/** A piece of a choice's refusal. */
export interface RefusalDelta {
  type: 'refusal-delta';
  text: string;
  choice?: number;
}

/**
 * A piece of a choice's reasoning: the model's thinking, streamed as it thinks, before (or between)
 * the pieces of its answer. OpenAI-compatible servers send it as `reasoning_content` (DeepSeek,
 * vLLM) or `reasoning` (OpenRouter, newer vLLM), Anthropic as `thinking_delta`s, Gemini as
 * `thought` parts, Bedrock as `reasoningContent` text. The whole reasoning is also in the final
 * answer, as its message's `passthrough.reasoning_content` (or the name the server used).
 */
export interface ReasoningDelta {
  type: 'reasoning-delta';
  text: string;
  choice?: number;
}

/**
 * A piece of a tool call, as OpenAI streams them: the first piece of call `index` carries its `id`
 * and `name`, the following ones more of its `arguments` text.
 */
export interface ToolCallDelta {
  type: 'tool-call-delta';
  choice?: number;
  /** The call's position among the choice's tool calls. */
  index: number;
  id?: string;
  name?: string;
  arguments: string;
}

/** Log probabilities of the tokens just streamed. */
export interface LogprobsDelta {
  type: 'logprobs-delta';
  choice?: number;
  logprobs: ChoiceLogprobs;
}

/**
 * The provider has answered and its stream begins, before any content: what its response headers
 * said and, when the stream names the answer before its content, the answer's id and creation time.
 * OpenAI-family and Anthropic providers send it just before the events of the first chunk that
 * names the answer or carries content (past Azure's prompt-filter chunk, which does neither), or at
 * the stream's end when no chunk did; Gemini's just before its first chunk's events, with that
 * chunk's `responseId`; Bedrock's as soon as the provider has answered, naming nothing.
 * Optional: a provider may start with its first delta instead.
 */
export interface StreamStart {
  type: 'start';
  /** The provider's rate-limit headers (`x-ratelimit-*`, `anthropic-ratelimit-*`), as it sent them. */
  rateLimitHeaders?: Record<string, string>;
  /** The provider's id of the answer (`chatcmpl-…`, `msg_…`), when it gave one before any content: the final answer's `id`. */
  id?: string;
  /** When the provider made the answer, in Unix seconds, when it said so before any content: the final answer's `created`. */
  created?: number;
  /**
   * The model the provider says is answering (Azure: the model behind the deployment), when it said
   * so before any content: a stream cut short is priced by it, as its final answer's `model` would be.
   */
  model?: string;
}

/** The end: the whole answer, with usage. */
export interface StreamDone {
  type: 'done';
  completion: ChatCompletion;
}

/** What a provider stream yields: deltas in order, then exactly one `done`. */
export type ChatStreamEvent = StreamStart | TextDelta | RefusalDelta | ReasoningDelta | ToolCallDelta | LogprobsDelta | StreamDone;
