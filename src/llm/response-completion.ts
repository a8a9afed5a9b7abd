import type { AttemptRecord } from './call-pipeline.js';
import type { LlmResponse } from './llm-client-types.js';
import { type CompletionBase, completionOf } from './model/completion-of.js';
import type { ChatCompletion, TokenUsage } from './types.js';

/**
 * The library's answer as the provider gave it: every choice and the provider's metadata (id,
 * created, fingerprint, service tier, rate-limit headers). The cost stays in the ledger.
 */
export function completionOfResponse(response: LlmResponse<undefined>): ChatCompletion {
  const { metadata, usage } = response;
  const base: CompletionBase = {
    provider: metadata.provider,
    model: metadata.model,
    choices: response.choices,
    usage: withoutCost(usage),
  };
  if (metadata.requestId !== undefined) base.requestId = metadata.requestId;
  if (metadata.responseId !== undefined) base.id = metadata.responseId;
  if (metadata.created !== undefined) base.created = metadata.created;
  if (metadata.systemFingerprint !== undefined) base.systemFingerprint = metadata.systemFingerprint;
  if (metadata.serviceTier !== undefined) base.serviceTier = metadata.serviceTier;
  if (metadata.rateLimitHeaders !== undefined) base.rateLimitHeaders = metadata.rateLimitHeaders;
  return completionOf(base);
}

/** The token counts of a response's usage, without its cost. */
function withoutCost(usage: LlmResponse<undefined>['usage']): TokenUsage {
  const { costUsd: _cost, ...tokens } = usage;
  return tokens;
}

/** How many attempts reached a provider (a skipped one, e.g. at an open breaker, did not). */
export function sentAttempts(attempts: readonly AttemptRecord[]): number {
  return attempts.filter((attempt) => attempt.outcome !== 'skipped').length;
}
