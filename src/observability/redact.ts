import { liveSecretValuesLongestFirst, REDACTED_MARKER } from '../config/secret.js';

// A field holds a secret when its name ends with a secret's name: `password`, `clientSecret`,
// `accessToken`, `apiKeys`, `authorization`. Not `promptTokens` or `maxTokens` (counts), not `bypass`.
const SECRET_KEY = /(^pass|password|passwd|passphrase|secrets?|token|api[-_]?keys?|authorization|cookie|credentials?|private[-_]?key)$/i;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]+)@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const KEY_SHAPES = /\b(sk-[A-Za-z0-9_-]{12,}|sk-ant-[A-Za-z0-9_-]{12,})/g;

/**
 * Removes secrets from a string: every value a live `Secret` holds, passwords in URLs,
 * bearer tokens and strings shaped like provider API keys.
 */
export function scrubSecrets(text: string): string {
  let result = text;
  for (const value of liveSecretValuesLongestFirst()) {
    if (result.includes(value)) result = result.split(value).join(REDACTED_MARKER);
  }
  // Each pattern needs a literal that most strings (methods, routes, ids, messages) lack: look for it first.
  if (result.includes('://')) result = result.replace(URL_CREDENTIALS, (_match, scheme: string, user: string) => `${scheme}${user}:***@`);
  if (result.includes('Bearer') || result.includes('Basic'))
    result = result.replace(BEARER, (_match, scheme: string) => `${scheme} ${REDACTED_MARKER}`);
  if (result.includes('sk-')) result = result.replace(KEY_SHAPES, REDACTED_MARKER);
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
 * Errors become plain objects (`type`, `message`, `stack`, `code`, `cause`), scrubbed too.
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
