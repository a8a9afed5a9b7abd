import type { CacheMode } from './response-cache.js';

/**
 * What a call asks of the cache, with the values of the service's cache header: `'use'` to read and
 * store even a sampled answer, `'bypass'` to neither read nor store, `'refresh'` to skip the read
 * and store a fresh answer. `true` and `false` mean `'use'` and `'bypass'`. Absent: the default policy.
 */
export type CacheOption = 'use' | 'bypass' | 'refresh' | boolean;

/**
 * Turns a call's {@link CacheOption} into a {@link CacheMode}. By default only deterministic
 * requests are cached: those that ask for temperature 0. A request without a temperature gets
 * the provider's default, which samples, so it is not cached unless the call says `cache: true`.
 */
export function resolveCacheMode(option: CacheOption | undefined, temperature: number | undefined): CacheMode {
  if (option === 'refresh') return 'refresh';
  if (option === true || option === 'use') return 'use';
  if (option === false || option === 'bypass') return 'bypass';
  return temperature === 0 ? 'use' : 'bypass';
}

/** Whether a call's {@link CacheOption} asks for the cache outright (to read and store, or to store a fresh answer). */
export function wantsCache(option: CacheOption | undefined): boolean {
  return option === true || option === 'use' || option === 'refresh';
}
