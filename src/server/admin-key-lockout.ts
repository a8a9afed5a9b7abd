import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.js';
import { HttpError } from './http-error.js';

/** Wrong admin keys accepted per minute from one client address, from the login form and bearer tokens together, before that address's admin keys are refused with 429. */
export const ADMIN_KEY_FAILURES_PER_MINUTE = 10;

/** Client addresses counted at once; past this, addresses not yet counted share one count. */
export const ADMIN_KEY_LOCKOUT_CLIENTS = 10_000;

const WINDOW_MS = 60_000;
/** The count of the addresses beyond {@link ADMIN_KEY_LOCKOUT_CLIENTS}. */
const OVERFLOW = '';

/** One address's minute: when it began and the wrong keys in it. */
interface FailureWindow {
  readonly start: number;
  failures: number;
}

/**
 * Counts wrong presentations of `GROUNDWORK_ADMIN_KEY` — on the dashboard's login form, as a bearer
 * token on the dashboard's API (`/admin/api/…`) and on the admin API (`/admin/keys|teams|usage`) —
 * per client address, in windows of a minute, so that the key cannot be guessed at speed on any of
 * them. Once {@link ADMIN_KEY_FAILURES_PER_MINUTE} have failed from an address, every key that
 * address presents, the right one included, is answered 429 with `Retry-After` until its minute is
 * over: were the right key let through, a guesser would still learn at full speed which guess was
 * right. Other addresses are not affected, so that a stranger's wrong keys cannot lock the admin
 * out; nor are sessions already logged in. Behind a reverse proxy every client has the proxy's
 * address and shares one count. The counts are per process.
 */
export class AdminKeyLockout {
  readonly #now: () => number;
  readonly #windows = new Map<string, FailureWindow>();

  /** @param now The time, epoch ms. @default Date.now */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Whether `presented` is `adminKey` (compared in constant time); a wrong key is counted against
   * `client` (the caller's address). Throws a 429 when `client`'s failures this minute are spent,
   * before comparing.
   */
  check(presented: string, adminKey: Secret, client = OVERFLOW): boolean {
    const now = this.#now();
    const slot = this.#windows.has(client) || !this.#full(now) ? client : OVERFLOW;
    let window = this.#windows.get(slot);
    if (window !== undefined && now - window.start >= WINDOW_MS) {
      this.#windows.delete(slot);
      window = undefined;
    }
    if (window !== undefined && window.failures >= ADMIN_KEY_FAILURES_PER_MINUTE) {
      throw new HttpError({
        status: 429,
        type: 'rate_limit_error',
        code: 'too_many_logins',
        message: 'Too many failed logins or wrong admin keys in the last minute; wait until Retry-After has passed.',
        retryAfterMs: WINDOW_MS - (now - window.start),
      });
    }
    if (sameSecret(presented, adminKey.reveal())) return true;
    // Only an address that failed is kept: the right key costs nothing.
    if (window === undefined) this.#windows.set(slot, { start: now, failures: 1 });
    else window.failures++;
    return false;
  }

  /** Whether the table holds as many addresses as it may, after dropping those whose minute is over. */
  #full(now: number): boolean {
    if (this.#windows.size < ADMIN_KEY_LOCKOUT_CLIENTS) return false;
    for (const [client, window] of this.#windows) if (now - window.start >= WINDOW_MS) this.#windows.delete(client);
    return this.#windows.size >= ADMIN_KEY_LOCKOUT_CLIENTS;
  }
}

function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
