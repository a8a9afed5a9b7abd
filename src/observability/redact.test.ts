import { describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { isSecretKey, redactLogFields, redactValue, scrubSecrets } from './redact.js';

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

describe('redactLogFields', () => {
  it('hands back a flat line with nothing to redact as it is, and a redacted copy of any other', () => {
    const plain = { method: 'POST', route: '/v1/chat/completions', status: 200, durationMs: 1.5, cached: false, none: null };
    expect(redactLogFields(plain)).toBe(plain);
    const secret = new Secret('TEST_REDACT_LINE_SECRET', 'line-secret-value-42');
    const lines: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [
        { route: '/v1', apiKey: 'x' },
        { route: '/v1', apiKey: '[redacted]' },
      ],
      [
        { route: '/v1', password: 7 },
        { route: '/v1', password: '[redacted]' },
      ],
      [{ message: 'sent Bearer abc.def' }, { message: 'sent Bearer [redacted]' }],
      [{ message: 'value line-secret-value-42 seen' }, { message: 'value [redacted] seen' }],
      [{ nested: { token: 'x' } }, { nested: { token: '[redacted]' } }],
      [Object.assign(Object.create({ inherited: 1 }), { url: 'https://u:p@h' }), { url: 'https://u:***@h' }],
    ];
    for (const [line, expected] of lines) {
      const redacted = redactLogFields(line);
      expect(redacted).not.toBe(line);
      expect(redacted).toEqual(expected);
    }
    secret.replace('line-secret-gone-43');
  });
});
