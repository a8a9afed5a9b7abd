import { ProviderError } from '../errors/provider-errors.js';
import type { ChatCompletion } from '../llm/types.js';
import { outcomeUnknown } from './error-answer.js';
import type { ErrorAnswer } from './http-error.js';

/** Requests Groundwork sent to providers for an answer, retries and fallbacks included. */
export const ATTEMPTS_HEADER = 'x-groundwork-attempts';
/** OpenAI's SDKs read it: `false` stops their own retries. */
export const SHOULD_RETRY_HEADER = 'x-should-retry';

/** The provider's rate-limit headers worth passing on, in OpenAI's and Anthropic's names. */
const RATE_LIMIT_HEADER = /^(x-ratelimit-|anthropic-ratelimit-)[a-z0-9-]+$/;

/** Statuses an OpenAI SDK retries by itself; for any other there is nothing to stop. */
const SDK_RETRIED_STATUSES = new Set([408, 409, 429, 500, 502, 503, 504]);
/** Codes answered with such a status that the same request meets again: a spent quota, vectors of the wrong length. */
const UNRETRYABLE_CODES = new Set(['insufficient_quota', 'embedding_dimensions_mismatch']);

/** The provider's `x-ratelimit-*` headers, as it sent them, so callers see the upstream quota. */
export function rateLimitHeaders(completion: Pick<ChatCompletion, 'rateLimitHeaders'>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(completion.rateLimitHeaders ?? {})) {
    const lower = name.toLowerCase();
    if (RATE_LIMIT_HEADER.test(lower) && !/[\r\n]/.test(value)) headers[lower] = value;
  }
  return headers;
}

/**
 * Headers of an error answer: how many provider requests Groundwork already made, and
 * `x-should-retry: false` when it already retried (so an SDK's retries do not multiply its own:
 * 3 × 3 = 9 upstream calls), when retrying cannot help, or when the work may have been applied
 * already (an unknown outcome).
 */
export function errorHeaders(error: unknown, answer: ErrorAnswer, attempts: number | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (attempts !== undefined) headers[ATTEMPTS_HEADER] = String(attempts);
  const retryable = ProviderError.isInstance(error)
    ? error.retryable && !outcomeUnknown(error)
    : SDK_RETRIED_STATUSES.has(answer.status) && !UNRETRYABLE_CODES.has(answer.code ?? '') && !outcomeUnknown(error);
  if ((attempts ?? 0) > 1 || !retryable) headers[SHOULD_RETRY_HEADER] = 'false';
  return headers;
}
