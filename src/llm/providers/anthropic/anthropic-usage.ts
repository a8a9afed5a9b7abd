import type { TokenUsage } from '../../types.js';

/** The usage block of an Anthropic message (or the cumulative one of a stream's `message_delta`). */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/**
 * Maps Anthropic's usage to {@link TokenUsage}. Anthropic counts cache reads and writes apart from
 * `input_tokens`; Groundwork's prompt tokens include both, with reads as the cached prompt tokens
 * and writes as the cache-write prompt tokens.
 */
export function mapAnthropicUsage(usage: AnthropicUsage | null | undefined): TokenUsage {
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const cacheWrite = usage?.cache_creation_input_tokens ?? 0;
  const promptTokens = (usage?.input_tokens ?? 0) + cacheRead + cacheWrite;
  const completionTokens = usage?.output_tokens ?? 0;
  const result: TokenUsage = {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    cachedPromptTokens: cacheRead,
  };
  if (cacheWrite > 0) result.cacheWritePromptTokens = cacheWrite;
  return result;
}

/** Folds a later usage report (a stream's `message_delta`) into an earlier one: reported fields win. */
export function mergeAnthropicUsage(earlier: AnthropicUsage, later: AnthropicUsage | null | undefined): AnthropicUsage {
  const merged: AnthropicUsage = { ...earlier };
  for (const key of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) {
    const value = later?.[key];
    if (typeof value === 'number') merged[key] = value;
  }
  return merged;
}
