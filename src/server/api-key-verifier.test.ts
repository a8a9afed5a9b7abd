import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { ApiKeyVerifier } from './api-key-verifier.js';

describe('ApiKeyVerifier’s memory of accepted keys', () => {
  const keys = [new Secret('GROUNDWORK_API_KEYS[0]', 'gw-remembered-key-1'), new Secret('GROUNDWORK_API_KEYS[1]', 'gw-remembered-key-2')];

  it('keeps refusing wrong, near and missing keys after the right ones were accepted', () => {
    const verifier = new ApiKeyVerifier(keys);
    for (let round = 0; round < 3; round++) {
      expect(verifier.verify('Bearer gw-remembered-key-1')).toBe('ok');
      expect(verifier.verify(undefined, 'gw-remembered-key-2')).toBe('ok');
      expect(verifier.verify('Bearer gw-remembered-key-')).toBe('invalid');
      expect(verifier.verify('Bearer gw-remembered-key-12')).toBe('invalid');
      expect(verifier.verify('Bearer GW-REMEMBERED-KEY-1')).toBe('invalid');
      expect(verifier.verify(undefined, '  ')).toBe('missing');
      expect(verifier.verify('Bearer')).toBe('missing');
    }
  });

  it('answers the same for a key whether or not it was accepted before', () => {
    const fresh = new ApiKeyVerifier(keys);
    const warmed = new ApiKeyVerifier(keys);
    warmed.verify('Bearer gw-remembered-key-1');
    for (const header of ['Bearer gw-remembered-key-1', 'bearer  gw-remembered-key-1 ', 'Bearer gw-other', 'Basic abc']) {
      expect(warmed.verify(header)).toBe(fresh.verify(header));
    }
  });

  it('never shows a presented key when inspected or serialised', () => {
    const verifier = new ApiKeyVerifier(keys);
    verifier.verify('Bearer gw-remembered-key-1');
    verifier.verify('Bearer gw-made-up-key');
    const shown = `${inspect(verifier, { showHidden: true, depth: 10 })} ${JSON.stringify(verifier)} ${String(verifier)}`;
    expect(shown).not.toContain('gw-remembered-key-1');
    expect(shown).not.toContain('gw-made-up-key');
  });
});
