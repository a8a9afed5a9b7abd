import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './bind-address.js';
import { hostNameOf, isOwnOrigin } from './browser-origin.js';
import { corsAllows } from './cors.js';
import { HttpError } from './http-error.js';

/**
 * Refuses a request to a keyless service (no `GROUNDWORK_API_KEYS`, so bound to loopback) that
 * names a host other than a loopback one (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`) or
 * `bindHost`: a browser sends the name it resolved, so a page on a name its owner re-pointed at
 * 127.0.0.1 (DNS rebinding) is refused, while every local program that dials the service by
 * address or as `localhost` is served. A request without `Host` (HTTP/1.0) comes from no browser.
 * `keySetting` names the setting whose key would lift the refusal (the dashboard's is `GROUNDWORK_ADMIN_KEY`).
 */
export function refuseForeignHost(request: IncomingMessage, bindHost: string, keySetting = 'GROUNDWORK_API_KEYS'): void {
  const host = request.headers.host;
  if (host === undefined) return;
  // A client sends the same `Host` on every request: the last one let through is not parsed again.
  if (host === lastAllowed.host && bindHost === lastAllowed.bindHost) return;
  const name = hostNameOf(host);
  if (name !== undefined && (isLoopbackHost(name) || name.endsWith('.localhost') || name === hostNameOf(bracketed(bindHost)))) {
    lastAllowed = { host, bindHost };
    return;
  }
  throw new HttpError({
    status: 403,
    type: 'permission_error',
    code: 'host_not_loopback',
    message:
      `Without ${keySetting} this answers only requests addressed to this machine (localhost, 127.0.0.1, [::1]); ` +
      `call it by one of those names, or set ${keySetting} to serve other names.`,
  });
}

/**
 * Refuses a request to a keyless service that a browser marks as sent by a page of another
 * origin: an `Origin` that is neither the service's own nor allowed by `SERVER_CORS_ORIGINS`, or,
 * without `Origin`, `Sec-Fetch-Site: cross-site` or `same-site` (a page on another port of this
 * machine is same-site, yet another application). Such a page could otherwise spend the provider
 * quota with a form or a `no-cors` fetch, which needs no preflight. Requests without these headers
 * (SDKs, curl, other servers) are not browsers' and pass.
 */
export function refuseCrossSite(request: IncomingMessage, corsOrigins: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    if (isOwnOrigin(origin, request.headers.host) || corsAllows(origin, corsOrigins)) return;
  } else {
    const site = request.headers['sec-fetch-site'];
    if (site !== 'cross-site' && site !== 'same-site') return;
  }
  throw new HttpError({
    status: 403,
    type: 'permission_error',
    code: 'cross_site_refused',
    message:
      'This service has no API keys, so a web page of another origin may not call it; ' +
      "the operator can add the page's origin to SERVER_CORS_ORIGINS, or set GROUNDWORK_API_KEYS.",
  });
}

/** The last `Host` let through, with the bind host it was checked against. */
let lastAllowed: { host: string | undefined; bindHost: string | undefined } = { host: undefined, bindHost: undefined };

/** `host` as it would appear in a `Host` header: an IPv6 address in brackets. */
function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
