import { providerError } from './provider-error-factory.js';

/**
 * The choice or tool-call index a stream chunk gives, or `fallback` when it gives none. An index
 * that is there but is not a safe non-negative integer (a string, a fraction, a negative number,
 * or `1e400`, which parses to `Infinity`) fails the stream with a `MalformedResponseError` naming
 * it: it keys the answer's choices and is written back into the chunks a caller reads. `provider` and
 * `model` name where the chunk came from; they are plain strings so that a good index, on every chunk,
 * builds nothing.
 */
export function streamIndex(value: unknown, fallback: number, what: string, provider: string, model: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  throw providerError('malformed_response', `a stream chunk's ${what} is ${shown}, not a non-negative integer`, { provider, model });
}
