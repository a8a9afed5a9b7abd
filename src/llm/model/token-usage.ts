/** Token counts of one call, the same shape for every provider. */
export interface TokenUsage {
  /** Every input token, cached and cache-written ones included. */
  promptTokens: number;
  /** Every output token, reasoning and audio ones included. */
  completionTokens: number;
  totalTokens: number;
  /** Prompt tokens served from the provider's prompt cache, where reported. */
  cachedPromptTokens?: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic), where reported. */
  cacheWritePromptTokens?: number;
  /** Audio tokens in the prompt, where reported. */
  audioPromptTokens?: number;
  /** Reasoning tokens inside `completionTokens`, where reported. */
  reasoningTokens?: number;
  /** Audio tokens inside `completionTokens`, where reported. */
  audioCompletionTokens?: number;
  /** Predicted-output tokens that appeared in the answer (OpenAI), where reported. */
  acceptedPredictionTokens?: number;
  /** Predicted-output tokens that did not, still billed (OpenAI), where reported. */
  rejectedPredictionTokens?: number;
}
