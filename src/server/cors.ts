import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

/** What a browser page may read of an answer besides the CORS-safelisted headers. */
const EXPOSED_HEADERS = [
  'x-request-id',
  'x-groundwork-cache',
  'x-groundwork-attempts',
  'x-should-retry',
  'retry-after',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
].join(', ');

/** How long a browser may reuse a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * CORS for the configured origins (`SERVER_CORS_ORIGINS`; `*` for any), applied to the API
 * (`/v1/…`) only, never to the dashboard or the admin API. Adds the headers to an
 * answer for an allowed origin, and answers a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) itself with 204, before authentication, as browsers send
 * preflights without credentials. Returns whether the request was answered. A preflight from an
 * origin that is not allowed gets a 403 saying so; without configured origins nothing changes.
 */
export function applyCors(request: IncomingMessage, response: ServerResponse, origins: readonly string[]): boolean {
  if (origins.length === 0) return false;
  const origin = request.headers.origin;
  const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  response.setHeader('vary', 'Origin');
  if (origin === undefined) return false;
  if (!corsAllows(origin, origins)) {
    if (!preflight) return false;
    throw new HttpError({
      status: 403,
      type: 'permission_error',
      code: 'cors_origin_not_allowed',
      message: 'This origin is not allowed to call the service; the operator can add it to SERVER_CORS_ORIGINS.',
    });
  }
  response.setHeader('access-control-allow-origin', origins.includes('*') ? '*' : origin);
  if (!preflight) {
    response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    return false;
  }
  response.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': request.headers['access-control-request-headers'] ?? 'authorization, content-type',
    'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
  });
  response.end();
  return true;
}

/** Whether `SERVER_CORS_ORIGINS` (`origins`) lets a page of `origin` call the service: it is listed, or `*` is. */
export function corsAllows(origin: string, origins: readonly string[]): boolean {
  return origins.includes('*') || origins.includes(origin);
}
