import type { CacheMode } from './response-cache.js';

/**
 * What a call asks of the cache: `true` to cache even a sampled answer, `false` to bypass it,
 * `'refresh'` to skip the read and store a fresh answer. Absent: the default policy.
 */
export type CacheOption = boolean | 'refresh';

/**
 * Turns a call's {@link CacheOption} into a {@link CacheMode}. By default only deterministic
 * requests are cached: those that ask for temperature 0. A request without a temperature gets
 * the provider's default, which samples, so it is not cached unless the call says `cache: true`.
 */
export function resolveCacheMode(option: CacheOption | undefined, temperature: number | undefined): CacheMode {
  if (option === 'refresh') return 'refresh';
  if (option === true) return 'use';
  if (option === false) return 'bypass';
  return temperature === 0 ? 'use' : 'bypass';
}
