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
 * The provider has answered and its stream begins: what its response headers said, before any
 * content. Optional: a provider may start with its first delta instead.
 */
export interface StreamStart {
  type: 'start';
  /** The provider's rate-limit headers (`x-ratelimit-*`, `anthropic-ratelimit-*`), as it sent them. */
  rateLimitHeaders?: Record<string, string>;
}

/** The end: the whole answer, with usage. */
export interface StreamDone {
  type: 'done';
  completion: ChatCompletion;
}

/** What a provider stream yields: deltas in order, then exactly one `done`. */
export type ChatStreamEvent = StreamStart | TextDelta | RefusalDelta | ToolCallDelta | LogprobsDelta | StreamDone;
