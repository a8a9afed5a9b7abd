import type { TokenUsage as BedrockTokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { TokenUsage } from '../../types.js';

/**
 * Converse usage in Groundwork's terms. `inputTokens` leaves out cache reads and writes, so the
 * prompt is all three, with the reads as cached tokens and the writes as cache-write tokens.
 */
export function mapBedrockUsage(usage: BedrockTokenUsage | undefined): TokenUsage {
  const read = usage?.cacheReadInputTokens ?? 0;
  const written = usage?.cacheWriteInputTokens ?? 0;
  const prompt = (usage?.inputTokens ?? 0) + read + written;
  const completion = usage?.outputTokens ?? 0;
  const mapped: TokenUsage = { promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion };
  if (usage?.cacheReadInputTokens !== undefined) mapped.cachedPromptTokens = read;
  if (usage?.cacheWriteInputTokens !== undefined) mapped.cacheWritePromptTokens = written;
  return mapped;
}
