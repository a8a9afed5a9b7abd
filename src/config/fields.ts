import { z } from 'zod';

/*
 * Field parsers for environment variables. Each takes the raw string (or undefined) and yields a
 * typed value; messages say what is expected, never echo a secret.
 */

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** `true|false|1|0|yes|no|on|off`, case-insensitive. */
export function booleanField(defaultValue: boolean) {
  return z
    .string()
    .optional()
    .transform((raw, context) => {
      if (raw === undefined || raw.trim() === '') return defaultValue;
      const value = raw.trim().toLowerCase();
      if (TRUE.has(value)) return true;
      if (FALSE.has(value)) return false;
      context.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    });
}

/** A whole number within [min, max]; `unit` is named in errors. */
export function integerField(defaultValue: number, min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return optionalIntegerField(min, max).transform((value) => value ?? defaultValue);
}

/** A whole number within [min, max], or undefined when unset. */
export function optionalIntegerField(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .optional()
    .transform((raw, context) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const value = Number(raw.trim().replaceAll('_', ''));
      if (!Number.isInteger(value)) {
        context.addIssue({ code: 'custom', message: 'must be a whole number' });
        return z.NEVER;
      }
      if (value < min || value > max) {
        context.addIssue({ code: 'custom', message: `must be between ${min} and ${max}` });
        return z.NEVER;
      }
      return value;
    });
}

/** A number (fractions allowed) within [min, max], or undefined when unset. */
export function optionalNumberField(min: number, max: number = Number.MAX_VALUE) {
  return z
    .string()
    .optional()
    .transform((raw, context) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const value = Number(raw.trim());
      if (!Number.isFinite(value) || value < min || value > max) {
        context.addIssue({ code: 'custom', message: `must be a number between ${min} and ${max}` });
        return z.NEVER;
      }
      return value;
    });
}

/** One of `values`, case-insensitive, normalised to the listed spelling. */
export function enumField<const T extends string>(values: readonly T[], defaultValue: T) {
  return z
    .string()
    .optional()
    .transform((raw, context): T => {
      if (raw === undefined || raw.trim() === '') return defaultValue;
      const found = values.find((value) => value.toLowerCase() === raw.trim().toLowerCase());
      if (found === undefined) {
        context.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}` });
        return z.NEVER;
      }
      return found;
    });
}

/** A trimmed non-empty string, or undefined when unset. */
export function optionalStringField() {
  return z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()));
}

/** An absolute http(s) URL, or undefined when unset. The URL is never echoed in the message. */
export function optionalHttpUrlField() {
  return optionalStringField().transform((raw, context) => {
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      return raw.replace(/\/+$/, '');
    } catch {
      context.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
      return z.NEVER;
    }
  });
}

/** A comma-separated list of non-empty items. */
export function listField() {
  return z
    .string()
    .optional()
    .transform((raw) =>
      (raw ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    );
}
