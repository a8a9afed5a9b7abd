/*
 * Field parsers for environment variables. Each takes the raw string (or undefined) and yields a
 * typed value or what is wrong with it; messages say what is expected, never echo a secret. Plain
 * functions: reading the configuration loads no validation library.
 */

/** A field's outcome: its value, or a message saying what is expected. */
export type FieldResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** A variable's parser: the raw string (undefined when unset) to a typed value. */
export type Field<T> = (raw: string | undefined) => FieldResult<T>;

/** The type a field yields. */
export type FieldValue<F> = F extends Field<infer T> ? T : never;

const valid = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const invalid = (message: string): FieldResult<never> => ({ ok: false, message });

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** `true|false|1|0|yes|no|on|off`, case-insensitive. */
export function booleanField(defaultValue: boolean): Field<boolean> {
  return (raw) => {
    if (raw === undefined || raw.trim() === '') return valid(defaultValue);
    const value = raw.trim().toLowerCase();
    if (TRUE.has(value)) return valid(true);
    if (FALSE.has(value)) return valid(false);
    return invalid('must be true or false');
  };
}

/**
 * A whole number written as a person writes one in a setting: decimal digits, optionally grouped by
 * `_` (`10_000`), with a `-` for the range check to refuse. `Number()` alone also reads `0x10`,
 * `0b1`, `0o7`, `1e3` and `Infinity`, so a typo or a value meant for another tool would be taken
 * as some other number without a word.
 */
const DECIMAL_INTEGER = /^-?\d+(?:_\d+)*$/;
/** A decimal number: a whole number as above, with an optional fraction (`0.5`, `.5`, `2.`). */
const DECIMAL_NUMBER = /^-?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)$/;

/** A whole number within [min, max], `defaultValue` when unset. */
export function integerField(defaultValue: number, min: number, max: number = Number.MAX_SAFE_INTEGER): Field<number> {
  const optional = optionalIntegerField(min, max);
  return (raw) => {
    const result = optional(raw);
    return result.ok ? valid(result.value ?? defaultValue) : result;
  };
}

/** A whole number within [min, max] in decimal digits (see {@link DECIMAL_INTEGER}), or undefined when unset. */
export function optionalIntegerField(min: number, max: number = Number.MAX_SAFE_INTEGER): Field<number | undefined> {
  return (raw) => {
    if (raw === undefined || raw.trim() === '') return valid(undefined);
    const text = raw.trim();
    if (!DECIMAL_INTEGER.test(text)) return invalid(`must be a whole number in decimal digits, between ${min} and ${max}`);
    const value = Number(text.replaceAll('_', ''));
    if (value < min || value > max) return invalid(`must be between ${min} and ${max}`);
    return valid(value);
  };
}

/** A decimal number (fractions allowed, see {@link DECIMAL_NUMBER}) within [min, max], or undefined when unset. */
export function optionalNumberField(min: number, max: number = Number.MAX_VALUE): Field<number | undefined> {
  return (raw) => {
    if (raw === undefined || raw.trim() === '') return valid(undefined);
    const text = raw.trim();
    const value = DECIMAL_NUMBER.test(text) ? Number(text.replaceAll('_', '')) : Number.NaN;
    if (!Number.isFinite(value) || value < min || value > max) return invalid(`must be a decimal number between ${min} and ${max}`);
    return valid(value);
  };
}

/** One of `values`, case-insensitive, normalised to the listed spelling. */
export function enumField<const T extends string>(values: readonly T[], defaultValue: T): Field<T> {
  return (raw) => {
    if (raw === undefined || raw.trim() === '') return valid(defaultValue);
    const found = values.find((value) => value.toLowerCase() === raw.trim().toLowerCase());
    if (found === undefined) return invalid(`must be one of ${values.join(', ')}`);
    return valid(found);
  };
}

/** A trimmed non-empty string, or undefined when unset. */
export function optionalStringField(): Field<string | undefined> {
  return (raw) => valid(raw === undefined || raw.trim() === '' ? undefined : raw.trim());
}

/**
 * A trimmed secret of at least `minLength` characters, or undefined when unset. The message gives
 * the length wanted, never the value or its length.
 */
export function optionalSecretField(minLength: number): Field<string | undefined> {
  return (raw) => {
    const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
    if (value !== undefined && value.length < minLength) {
      return invalid(`must be at least ${minLength} characters, so that it cannot be guessed (e.g. openssl rand -base64 32)`);
    }
    return valid(value);
  };
}

/** A trimmed string matching `pattern`, or `defaultValue` when unset; `message` says what is expected. */
export function patternField(defaultValue: string, pattern: RegExp, message: string): Field<string> {
  return (raw) => {
    const value = raw === undefined || raw.trim() === '' ? defaultValue : raw.trim();
    return pattern.test(value) ? valid(value) : invalid(message);
  };
}

/** An absolute http(s) URL, or undefined when unset. The URL is never echoed in the message. */
export function optionalHttpUrlField(): Field<string | undefined> {
  return (raw) => {
    const trimmed = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
    if (trimmed === undefined) return valid(undefined);
    try {
      const url = new URL(trimmed);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      return valid(trimmed.replace(/\/+$/, ''));
    } catch {
      return invalid('must be an absolute http:// or https:// URL');
    }
  };
}

/** A comma-separated list of non-empty items. */
export function listField(): Field<string[]> {
  return (raw) =>
    valid(
      (raw ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    );
}

/**
 * A comma-separated list of browser origins (`scheme://host[:port]`, as a browser sends `Origin`)
 * or `*`. An entry no `Origin` can equal (a trailing slash or path, capitals in the host, a default
 * port, no scheme) is refused with the origin to write: compared as written, it would match nothing.
 */
export function originListField(): Field<string[]> {
  const list = listField();
  return (raw) => {
    const result = list(raw);
    if (!result.ok) return result;
    const fixes = result.value.map(originFix).filter((fix) => fix !== undefined);
    if (fixes.length === 0) return result;
    return invalid(`must be origins as browsers send them (scheme://host[:port], no path) or *: write ${fixes.join(', ')}`);
  };
}

/** How to write `entry` as an origin, or undefined when it is one (or `*`, or of a scheme with no host to check). */
function originFix(entry: string): string | undefined {
  if (entry === '*') return undefined;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) return `"${entry}" with its scheme (https://…)`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `"${entry}" as a URL`;
  }
  // Other schemes (an extension's, say) have no origin a URL can tell: taken as written.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin === entry ? undefined : `"${entry}" as "${url.origin}"`;
}
