import type { TokenUsage } from '../../types.js';

/** The usage block of an Anthropic message. */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/**
 * Maps Anthropic's usage to {@link TokenUsage}. Anthropic counts cache reads and writes apart from
 * `input_tokens`; Groundwork's prompt tokens include them, and cache reads are the cached prompt tokens.
 */
export function mapAnthropicUsage(usage: AnthropicUsage | null | undefined): TokenUsage {
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const promptTokens = (usage?.input_tokens ?? 0) + cacheRead + (usage?.cache_creation_input_tokens ?? 0);
  const completionTokens = usage?.output_tokens ?? 0;
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, cachedPromptTokens: cacheRead };
}
