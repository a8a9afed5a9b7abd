import type { TokenUsage } from '../../types.js';

/** The usage block of an OpenAI chat completion (or of the last chunk of a stream). */
export interface OpenAiUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** Maps OpenAI's usage to {@link TokenUsage}; absent usage counts as zero. */
export function mapOpenAiUsage(usage: OpenAiUsage | null | undefined): TokenUsage {
  const promptTokens = usage?.prompt_tokens ?? 0;
  const completionTokens = usage?.completion_tokens ?? 0;
  const result: TokenUsage = { promptTokens, completionTokens, totalTokens: usage?.total_tokens ?? promptTokens + completionTokens };
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  if (cached != null) result.cachedPromptTokens = cached;
  if (reasoning != null) result.reasoningTokens = reasoning;
  return result;
}
