import type { AttemptRecord } from './call-pipeline.js';
import type { LlmResponse } from './llm-client-types.js';
import { completionOf } from './model/completion-of.js';
import type { ChatCompletion } from './types.js';

/**
 * The library's answer as the provider gave it: every choice and the provider's metadata (id,
 * created, fingerprint, service tier, rate-limit headers). The cost stays in the ledger.
 */
export function completionOfResponse(response: LlmResponse<undefined>): ChatCompletion {
  const { metadata } = response;
  const { costUsd: _cost, ...usage } = response.usage;
  return completionOf({
    provider: metadata.provider,
    model: metadata.model,
    choices: response.choices,
    usage,
    ...(metadata.requestId === undefined ? {} : { requestId: metadata.requestId }),
    ...(metadata.responseId === undefined ? {} : { id: metadata.responseId }),
    ...(metadata.created === undefined ? {} : { created: metadata.created }),
    ...(metadata.systemFingerprint === undefined ? {} : { systemFingerprint: metadata.systemFingerprint }),
    ...(metadata.serviceTier === undefined ? {} : { serviceTier: metadata.serviceTier }),
    ...(metadata.rateLimitHeaders === undefined ? {} : { rateLimitHeaders: metadata.rateLimitHeaders }),
  });
}

/** How many attempts reached a provider (a skipped one, e.g. at an open breaker, did not). */
export function sentAttempts(attempts: readonly AttemptRecord[]): number {
  return attempts.filter((attempt) => attempt.outcome !== 'skipped').length;
}
