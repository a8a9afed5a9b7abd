import type { ProviderErrorKind } from './provider-errors.js';

/**
 * Maps an HTTP status (and the provider's error code, when it gave one) to a {@link ProviderErrorKind}.
 * The one place where status codes are interpreted.
 */
export function classifyStatus(status: number, providerCode?: string): ProviderErrorKind {
  const code = providerCode?.toLowerCase() ?? '';
  if (code.includes('insufficient_quota') || code.includes('billing')) return 'quota_exhausted';
  if (code.includes('content_filter') || code.includes('content_policy')) return 'content_filter';
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'authentication';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 422:
      return 'unprocessable';
    case 429:
      return 'rate_limited';
    default:
      if (status >= 500) return 'server_error';
      return 'bad_request';
  }
}

/**
 * Reads how long a provider asked to wait, from `retry-after-ms` (milliseconds) or
 * `Retry-After` (seconds, or an HTTP date), in milliseconds. Undefined when absent or unreadable.
 */
export function parseRetryAfter(
  headers: { get(name: string): string | null | undefined } | undefined,
  now: number = Date.now(),
): number | undefined {
  if (headers === undefined) return undefined;
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds != null && milliseconds.trim() !== '') {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers.get('retry-after');
  if (retryAfter == null || retryAfter.trim() === '') return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
