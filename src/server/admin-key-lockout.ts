import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.js';
import { HttpError } from './http-error.js';

/** Wrong admin keys accepted per minute, from the login form and bearer tokens together, before any admin key is refused with 429. */
export const ADMIN_KEY_FAILURES_PER_MINUTE = 10;

const WINDOW_MS = 60_000;

/**
 * Counts wrong presentations of `GROUNDWORK_ADMIN_KEY` — on the dashboard's login form, as a bearer
 * token on the dashboard's API (`/admin/api/…`) and on the admin API (`/admin/keys|teams|usage`) —
 * in one window of a minute, so that the key cannot be guessed at speed on any of them. Once
 * {@link ADMIN_KEY_FAILURES_PER_MINUTE} have failed, every presented key, the right one included,
 * is answered 429 with `Retry-After` until the minute is over: were the right key let through, a
 * guesser would still learn at full speed which guess was right. Sessions already logged in are
 * not affected. The count is per process.
 */
export class AdminKeyLockout {
  readonly #now: () => number;
  #window = { start: 0, failures: 0 };

  /** @param now The time, epoch ms. @default Date.now */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Whether `presented` is `adminKey` (compared in constant time); a wrong key is counted.
   * Throws a 429 when the minute's failures are spent, before comparing.
   */
  check(presented: string, adminKey: Secret): boolean {
    const now = this.#now();
    if (now - this.#window.start >= WINDOW_MS) this.#window = { start: now, failures: 0 };
    if (this.#window.failures >= ADMIN_KEY_FAILURES_PER_MINUTE) {
      throw new HttpError({
        status: 429,
        type: 'rate_limit_error',
        code: 'too_many_logins',
        message: 'Too many failed logins or wrong admin keys in the last minute; wait until Retry-After has passed.',
        retryAfterMs: WINDOW_MS - (now - this.#window.start),
      });
    }
    if (sameSecret(presented, adminKey.reveal())) return true;
    this.#window.failures++;
    return false;
  }
}

function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
