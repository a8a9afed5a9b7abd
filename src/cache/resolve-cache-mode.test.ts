import { describe, expect, it } from 'vitest';
import { resolveCacheMode } from './resolve-cache-mode.js';

describe('resolveCacheMode', () => {
  it('caches only deterministic requests by default', () => {
    expect(resolveCacheMode(undefined, 0)).toBe('use');
    expect(resolveCacheMode(undefined, 0.7)).toBe('bypass');
    expect(resolveCacheMode(undefined, undefined)).toBe('bypass');
  });

  it('follows what the call says', () => {
    expect(resolveCacheMode(true, 1)).toBe('use');
    expect(resolveCacheMode(false, 0)).toBe('bypass');
    expect(resolveCacheMode('refresh', 0)).toBe('refresh');
    expect(resolveCacheMode('refresh', 1)).toBe('refresh');
  });

  it('takes the same values as the service’s cache header: use, bypass, refresh', () => {
    expect(resolveCacheMode('use', 1)).toBe('use');
    expect(resolveCacheMode('bypass', 0)).toBe('bypass');
  });
});
