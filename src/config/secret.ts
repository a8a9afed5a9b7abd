import { inspect } from 'node:util';
import { urlQueryCredentials } from './urls.js';

const REDACTED = '[redacted]';
const liveSecretValues = new Map<string, number>();
/** {@link liveSecretValues}' keys longest first, sorted once per change rather than once per logged string. */
let longestFirst: readonly string[] | undefined;
/** Counts the values {@link Secret.replace} changed, so a holder of secrets sees a rotation by one number. */
let replacements = 0;

function track(secret: string, delta: 1 | -1): void {
  longestFirst = undefined;
  for (const value of secretParts(secret)) {
    if (value.length < 4) continue;
    const count = (liveSecretValues.get(value) ?? 0) + delta;
    if (count <= 0) liveSecretValues.delete(value);
    else liveSecretValues.set(value, count);
  }
}

/**
 * The parts of a secret value that must never be shown. For a connection URL that is its password
 * and its credential query parameters (as written and decoded), not the whole URL: a URL without a password is not a secret, and hiding
 * all of it hides where the application connects. Any other value is secret as a whole.
 */
function secretParts(value: string): string[] {
  if (/^(sqlite|pglite):/i.test(value)) return [];
  // A list of URLs (`DATABASE_REPLICA_URLS`): each URL's password.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^,]*,\s*[a-z][a-z0-9+.-]*:\/\//i.test(value))
    return value.split(',').flatMap((part) => secretParts(part.trim()));
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\s]*)@/i.exec(value);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    // Credentials in the query too: `?password=…`, `?sslpassword=…`, a token.
    const query = urlQueryCredentials(value);
    const userinfo = url?.[1];
    const colon = userinfo?.indexOf(':') ?? -1;
    if (userinfo === undefined || colon === -1) return query;
    const password = userinfo.slice(colon + 1);
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Not percent-encoded: the raw form is the one to hide.
    }
    return [...new Set([password, decoded, ...query])];
  }
  return [value];
}

/**
 * A secret configuration value (an API key, a password, a connection URL with credentials).
 *
 * It prints as `[redacted]` everywhere — `String()`, template literals, `JSON.stringify`,
 * `util.inspect`, pino — and gives its value only through {@link Secret.reveal}. Values can be
 * replaced in place when secrets rotate (see `reloadSecrets()`), so clients that hold the
 * `Secret` use the new value on their next call.
 */
export class Secret {
  #value: string;
  /** The environment variable this secret came from, e.g. `OPENAI_API_KEY`. */
  readonly variable: string;

  constructor(variable: string, value: string) {
    this.variable = variable;
    this.#value = value;
    track(value, 1);
  }

  /** The secret's value. Pass it only to the client that needs it; never log it. */
  reveal(): string {
    return this.#value;
  }

  /**
   * Replaces the value (secret rotation). Returns whether it changed.
   * @internal
   */
  replace(value: string): boolean {
    if (value === this.#value) return false;
    track(this.#value, -1);
    this.#value = value;
    track(value, 1);
    replacements++;
    return true;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.variable}: ${REDACTED})`;
  }
}

/** Every secret value currently held by a live {@link Secret}, longest first. Used by log redaction. */
export function knownSecretValues(): string[] {
  return [...liveSecretValuesLongestFirst()];
}

/**
 * The same as {@link knownSecretValues}, shared and read-only: the sorted list is kept until a
 * secret is created or replaced, so that redacting a log line does not sort it again.
 * @internal
 */
export function liveSecretValuesLongestFirst(): readonly string[] {
  longestFirst ??= Object.freeze([...liveSecretValues.keys()].sort((a, b) => b.length - a.length));
  return longestFirst;
}

/**
 * A number that changes whenever any {@link Secret}'s value is replaced: a holder that keeps
 * something derived from secrets (digests of keys) compares it to see that the values it read may have changed.
 * @internal
 */
export function secretReplacements(): number {
  return replacements;
}

/** The redaction marker used in place of secret values. */
export const REDACTED_MARKER = REDACTED;
