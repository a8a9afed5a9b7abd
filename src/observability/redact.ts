import { liveSecretValuesLongestFirst, REDACTED_MARKER } from '../config/secret.js';

// A field holds a secret when its name ends with a secret's name: `password`, `clientSecret`,
// `accessToken`, `apiKeys`, `authorization`. Not `promptTokens` or `maxTokens` (counts), not `bypass`.
const SECRET_KEY = /(^pass|password|passwd|passphrase|secrets?|token|api[-_]?keys?|authorization|cookie|credentials?|private[-_]?key)$/i;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]+)@/gi;
/** A credential in a URL's query (`?password=…`, `&sslpassword=…`, `?token=…`), as connection URLs accept them. */
const QUERY_CREDENTIALS =
  /([?&](?:password|sslpassword|pass|passwd|pwd|secret|token|access_token|auth_token|api_key|apikey|api-key|key|sig|subscription-key)=)[^&#\s"']+/gi;
const BEARER = /\b(Bearer|Basic)\s+([A-Za-z0-9._~+/=-]+)/g;
const KEY_SHAPES = /\bsk-[A-Za-z0-9_-]{12,}/g;

/**
 * Shortest secret value hidden wherever it appears. A shorter one is too likely to be an ordinary
 * word (`postgres`, `changeme`): hiding every occurrence would corrupt the text and point at the
 * secret. API keys are far longer; a short password is still hidden in a URL by the URL rule.
 */
const MIN_SCRUBBED_SECRET_LENGTH = 12;

/** Characters that continue a token: a secret value is hidden only where none is next to it. */
const TOKEN_CHARACTER = /[A-Za-z0-9_-]/;

/**
 * Whether the word after `Bearer` or `Basic` looks like a credential rather than prose (`Basic
 * income`, `Bearer bonds`): at least 6 characters with a digit, a symbol or a capital past the first.
 */
const looksLikeCredential = (word: string): boolean => word.length >= 6 && /[0-9._~+/=-]|.[A-Z]/.test(word);

/** Whether an `sk-…` word looks like a random key rather than a kebab-case name (`sk-learn-compatible-models`): it holds a digit or a capital. */
const looksLikeKey = (word: string): boolean => /[0-9A-Z]/.test(word.slice(3));

let scrubbedValuesSource: readonly string[] | undefined;
let scrubbedValues: readonly string[] = [];

/** The live secret values long enough to hide by value, longest first; filtered once per change of the list. */
function valuesToScrub(): readonly string[] {
  const live = liveSecretValuesLongestFirst();
  if (live !== scrubbedValuesSource) {
    scrubbedValuesSource = live;
    scrubbedValues = live.filter((value) => value.length >= MIN_SCRUBBED_SECRET_LENGTH);
  }
  return scrubbedValues;
}

/** `text` with each whole-token occurrence of `value` replaced by the marker; a value inside a longer token stays. */
function replaceWholeTokens(text: string, value: string): string {
  let result = '';
  let from = 0;
  for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
    const end = at + value.length;
    if (at < from || TOKEN_CHARACTER.test(text.charAt(at - 1)) || TOKEN_CHARACTER.test(text.charAt(end))) continue;
    result += text.slice(from, at) + REDACTED_MARKER;
    from = end;
  }
  return from === 0 ? text : result + text.slice(from);
}

/**
 * Removes secrets from a string: every value of at least 12 characters a live `Secret` holds,
 * where it stands as a whole token (not inside a longer word); passwords in URLs, in the user part
 * or as a credential query parameter (`?password=…`, `?sslpassword=…`, `?token=…`); bearer and basic
 * credentials; and strings shaped like provider API keys (`sk-…` with a digit or a capital).
 * Ordinary words are left alone: `Basic income`, `postgres` when that is the password.
 */
export function scrubSecrets(text: string): string {
  let result = text;
  for (const value of valuesToScrub()) {
    if (result.includes(value)) result = replaceWholeTokens(result, value);
  }
  // Each pattern needs a literal that most strings (methods, routes, ids, messages) lack: look for it first.
  if (result.includes('://')) {
    result = result.replace(URL_CREDENTIALS, (_match, scheme: string, user: string) => `${scheme}${user}:***@`);
    if (result.includes('=')) result = result.replace(QUERY_CREDENTIALS, '$1***');
  }
  if (result.includes('Bearer') || result.includes('Basic'))
    result = result.replace(BEARER, (match: string, scheme: string, word: string) =>
      looksLikeCredential(word) ? `${scheme} ${REDACTED_MARKER}` : match,
    );
  if (result.includes('sk-')) result = result.replace(KEY_SHAPES, (match: string) => (looksLikeKey(match) ? REDACTED_MARKER : match));
  return result;
}

/** Whether a field name says it holds a secret (`password`, `apiKey`, `authorization`, …). */
export function isSecretKey(key: string): boolean {
  let verdict = secretKeyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = SECRET_KEY.test(key);
    // Field names come from code, and are few; a bound keeps odd data from growing the memo.
    if (secretKeyVerdicts.size < MAX_REMEMBERED_KEYS) secretKeyVerdicts.set(key, verdict);
  }
  return verdict;
}

const MAX_REMEMBERED_KEYS = 1000;
const secretKeyVerdicts = new Map<string, boolean>();

/**
 * A log line's fields with secrets removed: the object itself when it is a flat record with
 * nothing to redact (no secret-named field, no nested object, no string holding a secret),
 * as most lines are (the access log's); otherwise a redacted deep copy ({@link redactValue}).
 * Pino serialises the line at once, so handing it the caller's object loses nothing.
 */
export function redactLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  const prototype = Object.getPrototypeOf(fields);
  if (prototype !== Object.prototype && prototype !== null) return redactValue(fields) as Record<string, unknown>;
  for (const key in fields) {
    const child = fields[key];
    if (typeof child === 'string') {
      if (scrubSecrets(child) !== child || isSecretKey(key)) return redactValue(fields) as Record<string, unknown>;
    } else if ((typeof child === 'object' && child !== null) || typeof child === 'function') {
      return redactValue(fields) as Record<string, unknown>;
    } else if (isSecretKey(key) && child !== undefined && child !== null && typeof child !== 'boolean') {
      return redactValue(fields) as Record<string, unknown>;
    }
  }
  return fields;
}

/**
 * A deep copy of `value` with secret-named fields replaced and secrets scrubbed from every string.
 * Errors become plain objects (`type`, `message`, `stack`, `code`, `cause`, an `AggregateError`'s
 * `errors`), scrubbed too.
 */
export function redactValue(value: unknown, depth = 0, seen?: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (typeof value !== 'object' || value === null) return value;
  return redactObject(value, depth, seen ?? new WeakSet<object>());
}

function redactObject(value: object, depth: number, seen: WeakSet<object>): unknown {
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Error)) {
    return redactValue((value as { toJSON(): unknown }).toJSON(), depth + 1, seen);
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, seen));
  const source: Record<string, unknown> =
    value instanceof Error
      ? {
          type: value.name,
          message: value.message,
          stack: value.stack,
          ...Object.fromEntries(Object.entries(value)),
          ...(value.cause === undefined ? {} : { cause: value.cause }),
          // Not enumerable, yet what failed: `jobs.close()` throws one naming each step.
          ...(value instanceof AggregateError && Array.isArray(value.errors) ? { errors: value.errors } : {}),
        }
      : (value as Record<string, unknown>);
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(source)) {
    copy[key] =
      isSecretKey(key) && child !== undefined && child !== null && typeof child !== 'boolean'
        ? REDACTED_MARKER
        : redactValue(child, depth + 1, seen);
  }
  return copy;
}
