import type { IncomingHttpHeaders } from 'node:http';
import { parseRetryAfter } from '../../errors/classify-status.js';

/** The headers of an upstream answer, as undici gives them: lower-case names. */
export type UpstreamHeaders = IncomingHttpHeaders;

/** One header's value (several joined with `, `); undefined when absent. */
export function headerOf(headers: UpstreamHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** How long the upstream asked to wait (`retry-after-ms`, `Retry-After`), in milliseconds. */
export function retryAfterOf(headers: UpstreamHeaders): number | undefined {
  if (headers['retry-after-ms'] === undefined && headers['retry-after'] === undefined) return undefined;
  return parseRetryAfter({ get: (name) => headerOf(headers, name) });
}

/** OpenAI's and Azure's `x-ratelimit-*` headers as sent; undefined when there are none. */
export function rateLimitHeadersOf(headers: UpstreamHeaders): Record<string, string> | undefined {
  let found: Record<string, string> | undefined;
  for (const name in headers) {
    if (!name.startsWith('x-ratelimit-')) continue;
    const value = headerOf(headers, name);
    if (value === undefined) continue;
    found ??= {};
    found[name] = value;
  }
  return found;
}
