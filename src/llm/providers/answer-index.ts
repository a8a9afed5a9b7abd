import { providerError } from './provider-error-factory.js';

/**
 * The choice or tool-call index an answer or a stream chunk gives, or `fallback` when it gives none.
 * An index that is there but is not a safe non-negative integer (a string, a fraction, a negative
 * number, or `1e400`, which parses to `Infinity`) fails the call with a `MalformedResponseError`
 * naming it: it keys the answer's choices and is written back into what a caller reads. `provider`
 * and `model` name where the answer came from; they are plain strings so that a good index, on every
 * chunk, builds nothing.
 */
export function answerIndex(value: unknown, fallback: number, what: string, provider: string, model: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  throw providerError('malformed_response', `the answer's ${what} is ${shown}, not a non-negative integer`, { provider, model });
}
