import { describe, expect, it } from 'vitest';
import { replicaShare } from './replica-share.js';

describe('replicaShare', () => {
  it('divides the limit by the replicas, rounding down', () => {
    expect(replicaShare(600, 1)).toBe(600);
    expect(replicaShare(600, 4)).toBe(150);
    expect(replicaShare(10, 3)).toBe(3);
  });

  it('leaves every replica at least 1, however small the limit', () => {
    expect(replicaShare(3, 4)).toBe(1);
    expect(replicaShare(1, 100)).toBe(1);
  });
});
