import type { TokenUsage } from '../types.js';

/** The token usage of a `Response` object as Groundwork counts it; undefined when it carries none. */
export function usageOfResponse(response: unknown): TokenUsage | undefined {
  const usage = (response as { usage?: Record<string, unknown> } | null)?.usage;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
  const input = number(usage['input_tokens']);
  const output = number(usage['output_tokens']);
  const inputDetails = (usage['input_tokens_details'] ?? {}) as Record<string, unknown>;
  const outputDetails = (usage['output_tokens_details'] ?? {}) as Record<string, unknown>;
  return {
    promptTokens: input,
    completionTokens: output,
    totalTokens: number(usage['total_tokens']) || input + output,
    cachedPromptTokens: number(inputDetails['cached_tokens']),
    reasoningTokens: number(outputDetails['reasoning_tokens']),
  };
}
