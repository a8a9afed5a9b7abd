import type { CacheOption } from '../cache/resolve-cache-mode.js';
import { HttpError } from './http-error.js';

/** The request header a caller uses to steer the response cache, and the response header that reports it. */
export const CACHE_HEADER = 'x-groundwork-cache';

/**
 * Reads `X-Groundwork-Cache`: `use` (or `true`) caches even a sampled answer, `bypass` (or `false`)
 * skips the cache, `refresh` stores a fresh answer. Absent: the default policy (only temperature 0).
 */
export function readCacheOption(value: string | string[] | undefined): CacheOption | undefined {
  if (value === undefined) return undefined;
  switch ((Array.isArray(value) ? value[0] : value)?.trim().toLowerCase()) {
    case 'use':
    case 'true':
      return true;
    case 'bypass':
    case 'false':
      return false;
    case 'refresh':
      return 'refresh';
    default:
      throw new HttpError({
        status: 400,
        type: 'invalid_request_error',
        code: 'invalid_header',
        param: 'X-Groundwork-Cache',
        message: 'X-Groundwork-Cache must be "use", "bypass" or "refresh".',
      });
  }
}
