import type { ProviderErrorKind } from '../../errors/provider-errors.js';

/**
 * The kind of an error a provider reported inside a stream, after its `200`: there is no status,
 * only the error's type or code (Anthropic's `rate_limit_error`, `invalid_request_error`,
 * `overloaded_error`; OpenAI's `rate_limit_exceeded`, `context_length_exceeded`). A rate limit is
 * retried after a wait without counting against the provider's health, a bad request is not
 * retried, and what is left (overloaded, an internal error, an unknown type) is a server error.
 */
export function streamErrorKind(type: string | null | undefined): ProviderErrorKind {
  const code = type?.toLowerCase() ?? '';
  if (code === '') return 'server_error';
  if (code.includes('rate_limit')) return 'rate_limited';
  if (code.includes('insufficient_quota') || code.includes('billing')) return 'quota_exhausted';
  if (code.includes('content_filter') || code.includes('content_policy')) return 'content_filter';
  if (code.includes('invalid_request') || code.includes('context_length') || code === 'request_too_large') return 'bad_request';
  if (code.startsWith('authentication') || code === 'invalid_api_key') return 'authentication';
  if (code.startsWith('permission')) return 'permission_denied';
  if (code.startsWith('not_found') || code === 'model_not_found') return 'not_found';
  if (code.includes('timeout')) return 'timeout';
  return 'server_error';
}
