import { describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { isSecretKey, redactValue, scrubSecrets } from './redact.js';

describe('scrubSecrets', () => {
  it('removes each kind of secret, alone or together, and leaves other text as it was', () => {
    expect(scrubSecrets('postgres://app:hunter22@db:5432/app')).toBe('postgres://app:***@db:5432/app');
    expect(scrubSecrets('header Bearer abc.def-123 sent')).toBe('header Bearer [redacted] sent');
    expect(scrubSecrets('Basic dXNlcjpwYXNz')).toBe('Basic [redacted]');
    expect(scrubSecrets('key sk-proj-abcdefghijklmnop')).toBe('key [redacted]');
    expect(scrubSecrets('Bearer sk-abcdefghijklmnop via https://u:p@h')).toBe('Bearer [redacted] via https://u:***@h');
    for (const plain of ['request', 'POST', '/v1/chat/completions', 'bearer lowercase is prose', 'ask-me', 'a:/b']) {
      expect(scrubSecrets(plain)).toBe(plain);
    }
  });

  it('removes a live secret’s value wherever it appears, and forgets it once replaced', () => {
    const secret = new Secret('TEST_REDACT_SECRET', 'plain-value-77');
    expect(scrubSecrets('id=plain-value-77;')).toBe('id=[redacted];');
    secret.replace('other-value-88');
    expect(scrubSecrets('plain-value-77 other-value-88')).toBe('plain-value-77 [redacted]');
    secret.replace('gone-value-99');
  });
});

describe('redactValue', () => {
  it('answers the same for a field name the second time it sees it', () => {
    for (let round = 0; round < 2; round++) {
      expect(isSecretKey('apiKey')).toBe(true);
      expect(isSecretKey('promptTokens')).toBe(false);
      expect(redactValue({ apiKey: 'x', route: '/v1', nested: { password: 'p', ok: 1 } })).toEqual({
        apiKey: '[redacted]',
        route: '/v1',
        nested: { password: '[redacted]', ok: 1 },
      });
    }
  });
});
