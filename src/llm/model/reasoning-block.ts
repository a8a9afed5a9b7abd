import type { LlmProviderName } from '../../config/variables.js';

/**
 * A piece of the model's reasoning that its provider needs back, unchanged, when the conversation
 * goes on: Anthropic's signed `thinking` and its `redacted_thinking` blocks, Bedrock's reasoning
 * content, Gemini 3's signature of an answer's text (a `thinking` block with empty text: Gemini
 * shows none of what it signed; it goes back on the text part). With extended thinking on, Anthropic refuses the turn after a tool call unless the
 * assistant message that called the tool starts with them. Opaque: only the provider that made a
 * block sends it back; the others leave it out. Its text, for reading, is also in
 * `passthrough.reasoning_content`.
 */
export type ReasoningBlock = ThinkingReasoning | RedactedReasoning;

/** Reasoning the model wrote, with the provider's signature over it. */
export interface ThinkingReasoning {
  type: 'thinking';
  /** The provider that made it, the only one that takes it back. */
  provider: LlmProviderName;
  text: string;
  /** The provider's signature over `text` (absent when it gave none). */
  signature?: string;
}

/** Reasoning the provider encrypted before giving it out. */
export interface RedactedReasoning {
  type: 'redacted';
  /** The provider that made it, the only one that takes it back. */
  provider: LlmProviderName;
  /** The encrypted reasoning, as the provider gave it (base64 where it gave bytes). */
  data: string;
}
