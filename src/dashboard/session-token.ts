import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.js';

/** How long a dashboard login lasts, ms. */
export const SESSION_TTL_MS = 12 * 3_600_000;

/**
 * Dashboard sessions, signed with the admin key: `<expiry>.<HMAC>`. Nothing is stored, so every
 * replica accepts the same cookie, and changing `GROUNDWORK_ADMIN_KEY` ends every session.
 */
export class SessionTokens {
  readonly #key: Secret;

  constructor(adminKey: Secret) {
    this.#key = adminKey;
  }

  /** A new session token valid until `nowMs + SESSION_TTL_MS`. */
  issue(nowMs: number): string {
    const expiry = String(nowMs + SESSION_TTL_MS);
    return `${expiry}.${this.#sign(`session:${expiry}`)}`;
  }

  /** Whether `token` is a session this key signed and that has not expired. */
  verify(token: string | undefined, nowMs: number): boolean {
    if (token === undefined) return false;
    const [expiry, signature, ...rest] = token.split('.');
    if (expiry === undefined || signature === undefined || rest.length > 0 || !/^\d{1,16}$/.test(expiry)) return false;
    if (Number(expiry) <= nowMs) return false;
    return same(signature, this.#sign(`session:${expiry}`));
  }

  /** The anti-CSRF token of a session: writes send it back in `X-Groundwork-CSRF`. */
  csrfFor(session: string): string {
    return this.#sign(`csrf:${session}`);
  }

  /** Whether `presented` is the anti-CSRF token of `session`. */
  verifyCsrf(session: string, presented: string | undefined): boolean {
    return presented !== undefined && same(presented, this.csrfFor(session));
  }

  #sign(value: string): string {
    return createHmac('sha256', this.#key.reveal()).update(value).digest('base64url');
  }
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
