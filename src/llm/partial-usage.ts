import type { CallTrace } from './call-trace.js';
import type { TokenUsage } from './types.js';

/**
 * Adds to `trace` the usage of a stream cut short, which the provider never reports: the prompt
 * as estimated, and the text delivered so far at four characters a token. Returns that usage.
 * A cut call still spent upstream tokens, and the ledger and the token limit should know it.
 */
export function addPartialUsage(trace: CallTrace, promptTokens: number, delivered: string): TokenUsage {
  const completionTokens = Math.ceil(delivered.length / 4);
  const usage: TokenUsage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
  trace.usage.promptTokens += usage.promptTokens;
  trace.usage.completionTokens += usage.completionTokens;
  trace.usage.totalTokens += usage.totalTokens;
  return usage;
}
