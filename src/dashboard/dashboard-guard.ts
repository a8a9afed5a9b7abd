import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Secret } from '../config/secret.js';
import { AdminKeyLockout } from '../server/admin-key-lockout.js';
import { isLoopbackHost } from '../server/bind-address.js';
import { isOwnOrigin } from '../server/browser-origin.js';
import { HttpError } from '../server/http-error.js';
import { refuseForeignHost } from '../server/keyless-guard.js';
import type { Dashboard } from './dashboard.js';
import { SessionTokens } from './session-token.js';

/** The cookie holding a dashboard session: HttpOnly, SameSite=Strict, path `/`. */
export const SESSION_COOKIE = 'groundwork_session';
/** The header a write sends its anti-CSRF token in. */
export const CSRF_HEADER = 'x-groundwork-csrf';

/** How a request is allowed in: the admin key as a bearer token (scripts), a login session, or an open loopback dashboard. */
export type Access = { kind: 'bearer' } | { kind: 'session'; session: string } | { kind: 'open' };

/**
 * Who may use the dashboard and its API. With `GROUNDWORK_ADMIN_KEY` set: a bearer admin key, or
 * a session cookie from the login form; writes from a session also need its anti-CSRF token and
 * a same-origin `Origin`. Without an admin key the dashboard is open, but only on a loopback
 * bind; writes still need the token, so that another site cannot post to it through the browser.
 */
export class DashboardGuard {
  readonly #dashboard: Dashboard;
  readonly #host: string;
  readonly #enabled: boolean;
  readonly #tokens: SessionTokens;
  readonly #lockout: AdminKeyLockout;

  /**
   * @param lockout Counts wrong admin keys, on the login form and as bearer tokens; share one with
   * the admin API so that both spend the same minute's allowance. @default one of its own
   */
  constructor(dashboard: Dashboard, host: string, lockout?: AdminKeyLockout) {
    this.#dashboard = dashboard;
    this.#lockout = lockout ?? new AdminKeyLockout(() => this.#now());
    this.#host = host;
    this.#enabled = dashboard.adminKey !== undefined || isLoopbackHost(host);
    this.#tokens = new SessionTokens(dashboard.adminKey ?? new Secret('DASHBOARD_CSRF_SECRET', randomBytes(32).toString('base64url')));
  }

  /** Whether a login is needed (an admin key is set). */
  get loginRequired(): boolean {
    return this.#dashboard.adminKey !== undefined;
  }

  /** Throws a 404 when the dashboard is off: a non-loopback bind without an admin key. */
  assertEnabled(): void {
    if (this.#enabled) return;
    throw new HttpError({
      status: 404,
      type: 'not_found_error',
      code: 'dashboard_off',
      message: 'The dashboard is off on a non-loopback address without an admin key: set GROUNDWORK_ADMIN_KEY to serve it.',
    });
  }

  /**
   * How the request is allowed in, or undefined when it is not. A wrong bearer key counts against
   * the same minute's allowance of the caller's address as a failed login, and once it is spent
   * every bearer key from that address gets a 429.
   */
  identify(request: IncomingMessage): Access | undefined {
    const adminKey = this.#dashboard.adminKey;
    if (adminKey === undefined) return { kind: 'open' };
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) return this.#lockout.check(bearer, adminKey, request.socket.remoteAddress) ? { kind: 'bearer' } : undefined;
    const session = cookieOf(request, SESSION_COOKIE);
    return session !== undefined && this.#tokens.verify(session, this.#now()) ? { kind: 'session', session } : undefined;
  }

  /**
   * The access of a reading request, or a 401. An open dashboard also refuses (403) a `Host` that is
   * not a loopback name: a page on a name re-pointed at 127.0.0.1 (DNS rebinding) would otherwise
   * read it, and take its anti-CSRF token too; and an `Origin` that is not its own, so that no
   * other page reads it, whatever `SERVER_CORS_ORIGINS` lets call the API.
   */
  requireRead(request: IncomingMessage): Access {
    this.assertEnabled();
    const access = this.identify(request);
    if (access === undefined) throw unauthorized();
    if (access.kind === 'open') {
      refuseForeignHost(request, this.#host, 'GROUNDWORK_ADMIN_KEY');
      if (!sameOrigin(request)) throw foreignOrigin();
    }
    return access;
  }

  /** The access of a writing request (POST, PATCH, DELETE), or a 401 or 403. */
  requireWrite(request: IncomingMessage): Access {
    const access = this.requireRead(request);
    if (access.kind === 'bearer') return access;
    if (!sameOrigin(request) || !this.#tokens.verifyCsrf(sessionOf(access), headerOf(request, CSRF_HEADER))) {
      throw new HttpError({
        status: 403,
        type: 'permission_error',
        code: 'csrf_refused',
        message: `A dashboard write needs the page's own origin and its ${CSRF_HEADER} token (from GET /admin/api/session).`,
      });
    }
    return access;
  }

  /** The anti-CSRF token for `access` (undefined for a bearer key, which needs none). */
  csrfToken(access: Access): string | undefined {
    return access.kind === 'bearer' ? undefined : this.#tokens.csrfFor(sessionOf(access));
  }

  /**
   * A new session for `presented` when it is the admin key; undefined otherwise. Throws a 429 once
   * the minute's wrong keys (failed logins and wrong bearer keys together) from `client` (the
   * caller's address) are spent.
   */
  login(presented: string, client?: string): string | undefined {
    const adminKey = this.#dashboard.adminKey;
    if (adminKey === undefined) return undefined;
    return this.#lockout.check(presented, adminKey, client) ? this.#tokens.issue(this.#now()) : undefined;
  }

  #now(): number {
    return this.#dashboard.now?.() ?? Date.now();
  }
}

function sessionOf(access: Access): string {
  return access.kind === 'session' ? access.session : 'open';
}

function unauthorized(): HttpError {
  return new HttpError({
    status: 401,
    type: 'invalid_request_error',
    code: 'invalid_admin_key',
    message: 'The dashboard API needs GROUNDWORK_ADMIN_KEY, as "Authorization: Bearer <key>" or by logging in at /ui/login.',
  });
}

function foreignOrigin(): HttpError {
  return new HttpError({
    status: 403,
    type: 'permission_error',
    code: 'origin_refused',
    message:
      'Without GROUNDWORK_ADMIN_KEY the dashboard answers only its own page, not a page of another origin; set GROUNDWORK_ADMIN_KEY to use it from elsewhere with the key.',
  });
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** The value of cookie `name`, if sent. */
export function cookieOf(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const equals = part.indexOf('=');
    if (equals !== -1 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}

/** A browser's write names its origin; it must be this host. A request without `Origin` (a script) is let through. */
function sameOrigin(request: IncomingMessage): boolean {
  const origin = headerOf(request, 'origin');
  return origin === undefined || isOwnOrigin(origin, request.headers.host);
}
