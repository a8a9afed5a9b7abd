import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Exchange } from '../server/exchange.js';
import { HttpError, retryAfterSeconds } from '../server/http-error.js';
import type { ServerContext } from '../server/server-context.js';
import { dashboardOf } from './admin-api-route.js';
import { SESSION_COOKIE } from './dashboard-guard.js';
import { SESSION_TTL_MS } from './session-token.js';
import { defaultUiDirectory, loadUiAssets, type UiAsset } from './ui-assets.js';

/** The page may load only its own scripts, styles and data; nothing inline, nothing from elsewhere, never framed. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

let assets: Map<string, UiAsset> | undefined;

function asset(name: string): UiAsset {
  if (assets === undefined) {
    const directory = defaultUiDirectory();
    if (directory === undefined) {
      throw new HttpError({
        status: 503,
        type: 'service_unavailable',
        code: 'dashboard_not_built',
        message: "The dashboard's page is not built: run `npm run build`.",
      });
    }
    assets = loadUiAssets(directory);
  }
  const found = assets.get(name);
  if (found === undefined) throw new HttpError({ status: 404, type: 'not_found_error', code: 'not_found', message: 'No such file.' });
  return found;
}

/** `/ui` (the page), `/ui/login` and `/ui/logout` (the session cookie), `/ui/assets/…` (the built files). */
export async function uiRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const { guard } = dashboardOf(context);
  guard.assertEnabled();
  const { request, response } = exchange;
  const method = request.method ?? 'GET';
  const path = new URL(request.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
  if (path.startsWith('/ui/assets/') && (method === 'GET' || method === 'HEAD')) {
    return sendAsset(request, response, asset(path.slice('/ui/assets/'.length)), 'public, max-age=300');
  }
  if (path === '/ui' && method !== 'POST') {
    if (guard.identify(request) === undefined) return redirect(response, '/ui/login');
    return sendAsset(request, response, asset('index.html'), 'no-store');
  }
  if (path === '/ui/login' && method !== 'POST') {
    if (!guard.loginRequired) return redirect(response, '/ui');
    return sendAsset(request, response, asset('login.html'), 'no-store');
  }
  if (path === '/ui/login' && method === 'POST') {
    refuseCrossSite(request);
    const presented = new URLSearchParams(await readForm(request)).get('key') ?? '';
    let session: string | undefined;
    try {
      session = guard.login(presented, request.socket.remoteAddress);
    } catch (error) {
      if (error instanceof HttpError && error.answer.status === 429) return loginLocked(request, response, error.answer.retryAfterMs ?? 0);
      throw error;
    }
    if (session === undefined) return loginRefused(request, response);
    response.setHeader('set-cookie', cookie(request, session, SESSION_TTL_MS / 1000));
    return redirect(response, '/ui');
  }
  if (path === '/ui/logout' && method === 'POST') {
    refuseCrossSite(request);
    response.setHeader('set-cookie', cookie(request, '', 0));
    return redirect(response, guard.loginRequired ? '/ui/login' : '/ui');
  }
  throw new HttpError({ status: 404, type: 'not_found_error', code: 'not_found', message: `No dashboard page at ${path.slice(0, 100)}.` });
}

function sendAsset(request: IncomingMessage, response: ServerResponse, file: UiAsset, cacheControl: string): void {
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    'content-type': file.type,
    etag: file.etag,
    'cache-control': cacheControl,
    vary: 'accept-encoding',
  };
  if (request.headers['if-none-match'] === file.etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  const body = gzip ? file.gzip : file.body;
  response.writeHead(200, { ...headers, ...(gzip ? { 'content-encoding': 'gzip' } : {}), 'content-length': body.length });
  response.end(body);
}

const LOGIN_ERROR = /<p class="login-error" hidden>[^<]*<\/p>/;

/** The login page again, with a 401 and the reason shown. */
function loginRefused(request: IncomingMessage, response: ServerResponse): void {
  sendLoginPage(request, response, 401, 'That is not the admin key.');
}

/** The login page again once the minute's wrong keys from this address are spent: a 429 with `Retry-After`, and the wait shown. */
function loginLocked(request: IncomingMessage, response: ServerResponse, retryAfterMs: number): void {
  const seconds = retryAfterSeconds(retryAfterMs);
  response.setHeader('retry-after', seconds);
  sendLoginPage(request, response, 429, `Too many wrong keys from this address in the last minute; try again in ${seconds} s.`);
}

function sendLoginPage(request: IncomingMessage, response: ServerResponse, status: number, reason: string): void {
  const page = asset('login.html').body.toString('utf8').replace(LOGIN_ERROR, `<p class="login-error">${reason}</p>`);
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : page);
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(303, { ...SECURITY_HEADERS, location, 'cache-control': 'no-store', 'content-length': 0 });
  response.end();
}

function cookie(request: IncomingMessage, value: string, maxAgeSeconds: number): string {
  const secure = (request.socket as Partial<TLSSocket>).encrypted === true || request.headers['x-forwarded-proto'] === 'https';
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * A login or logout posted from another site is refused: its `Origin` must be this host. Without
 * one, or with `Origin: null` (what a form sends from a page whose referrer policy is
 * `no-referrer`, this one's included), the browser's `Sec-Fetch-Site` decides: `cross-site` or
 * `same-site` (another port of this machine) is refused, so that no other page can sign the
 * operator out, or spend the minute's wrong keys and lock the admin key out.
 */
function refuseCrossSite(request: IncomingMessage): void {
  const origin = request.headers.origin;
  let foreign: boolean;
  if (origin === undefined || origin === 'null') {
    const site = request.headers['sec-fetch-site'];
    foreign = site === 'cross-site' || site === 'same-site';
  } else {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {}
    foreign = host !== request.headers.host;
  }
  if (foreign) {
    throw new HttpError({
      status: 403,
      type: 'permission_error',
      code: 'csrf_refused',
      message: 'The dashboard login accepts its own form only.',
    });
  }
}

const FORM_LIMIT_BYTES = 4096;

async function readForm(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT_BYTES)
      throw new HttpError({ status: 413, type: 'invalid_request_error', code: 'body_too_large', message: 'The login form is too large.' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
