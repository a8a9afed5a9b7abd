import type { GenerateContentResponseUsageMetadata } from '@google/genai';
import type { TokenUsage } from '../../types.js';

/**
 * Gemini's usage in Groundwork's terms. Gemini counts thinking apart from the answer
 * (`thoughtsTokenCount` is not in `candidatesTokenCount`), so completion tokens are both, with
 * the thoughts as reasoning tokens; tool-use prompt tokens are prompt tokens; cached content is
 * part of the prompt count already.
 */
export function mapGeminiUsage(usage: GenerateContentResponseUsageMetadata | undefined): TokenUsage {
  const prompt = (usage?.promptTokenCount ?? 0) + (usage?.toolUsePromptTokenCount ?? 0);
  const thoughts = usage?.thoughtsTokenCount ?? 0;
  const completion = (usage?.candidatesTokenCount ?? 0) + thoughts;
  const mapped: TokenUsage = {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: usage?.totalTokenCount ?? prompt + completion,
  };
  if (usage?.cachedContentTokenCount !== undefined) mapped.cachedPromptTokens = usage.cachedContentTokenCount;
  if (usage?.thoughtsTokenCount !== undefined) mapped.reasoningTokens = thoughts;
  return mapped;
}
