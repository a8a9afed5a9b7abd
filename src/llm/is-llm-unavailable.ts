import { GroundworkError } from '../errors/groundwork-error.js';

/** Codes of failures that say "the LLM cannot answer now", as opposed to "this request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'circuit_open',
  'deadline_exceeded',
  'rate_limit_exceeded',
  'queue_full',
  'queue_timeout',
  'retry_after_too_long',
  'rate_limit_store_unavailable',
  'llm_not_configured',
  'provider_quota_exhausted',
  'no_deployment_available',
]);

/**
 * Whether `error` means no LLM answer can be had right now — breaker open, deadline passed,
 * Groundwork's own limits refused, no deployment of a model group free, retries exhausted on a
 * retryable provider failure, quota exhausted, or no provider configured — so the caller may
 * degrade to a local fallback.
 * False for errors that say the request itself is wrong (bad request, invalid output, missing
 * prompt variables) and for anything that is not a Groundwork error.
 */
export function isLlmUnavailable(error: unknown): boolean {
  if (!GroundworkError.isInstance(error)) return false;
  if (UNAVAILABLE_CODES.has(error.code)) return true;
  return error.code.startsWith('provider_') && error.retryable;
}
