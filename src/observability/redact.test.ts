import { describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { isSecretKey, redactLogFields, redactValue, scrubSecrets } from './redact.js';

describe('scrubSecrets', () => {
  it('removes each kind of secret, alone or together, and leaves other text as it was', () => {
    expect(scrubSecrets('postgres://app:hunter22@db:5432/app')).toBe('postgres://app:***@db:5432/app');
    expect(scrubSecrets('header Bearer abc.def-123 sent')).toBe('header Bearer [redacted] sent');
    expect(scrubSecrets('Basic dXNlcjpwYXNz')).toBe('Basic [redacted]');
    expect(scrubSecrets('key sk-proj-abcdefgh1jklmnop')).toBe('key [redacted]');
    expect(scrubSecrets('Bearer sk-abcdefghijklmnop via https://u:p@h')).toBe('Bearer [redacted] via https://u:***@h');
    expect(scrubSecrets('Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln')).toBe('Authorization: Bearer [redacted]');
    for (const plain of ['request', 'POST', '/v1/chat/completions', 'bearer lowercase is prose', 'ask-me', 'a:/b']) {
      expect(scrubSecrets(plain)).toBe(plain);
    }
  });

  it('hides a credential in a URL’s query, however short, and leaves the other parameters', () => {
    expect(scrubSecrets('could not connect to postgres://app@db:5432/app?password=pw1&sslmode=require')).toBe(
      'could not connect to postgres://app@db:5432/app?password=***&sslmode=require',
    );
    expect(scrubSecrets('"postgres://db/app?sslmode=require&sslpassword=k3y"')).toBe('"postgres://db/app?sslmode=require&sslpassword=***"');
    expect(scrubSecrets('rediss://cache:6380/0?token=abc')).toBe('rediss://cache:6380/0?token=***');
    // The names `config` masks in a provider's URL: a Google API key, an Azure SAS signature, a gateway's key.
    expect(scrubSecrets('GET https://generativelanguage.googleapis.com/v1beta/models?key=AIzaQ1&alt=sse failed')).toBe(
      'GET https://generativelanguage.googleapis.com/v1beta/models?key=***&alt=sse failed',
    );
    expect(scrubSecrets('https://acct.blob.core.windows.net/c?sv=2022&sig=Zm9v%2B and https://gw/x?subscription-key=s1&api-key=a1')).toBe(
      'https://acct.blob.core.windows.net/c?sv=2022&sig=*** and https://gw/x?subscription-key=***&api-key=***',
    );
    // Not a URL: a query-looking phrase in prose stays.
    expect(scrubSecrets('set ?password= in the form')).toBe('set ?password= in the form');
  });

  it('leaves prose alone: Basic and Bearer before ordinary words, kebab-case names after sk-', () => {
    for (const prose of [
      'Basic income is a payment to every citizen.',
      'Bearer bonds pay whoever holds them.',
      'Basic English has 850 words; Basic HTTP authentication is weak.',
      'Bearer key of the admin API',
      'install sk-learn-compatible-models first',
    ]) {
      expect(scrubSecrets(prose)).toBe(prose);
    }
  });

  it('hides a live secret’s value only as a whole token, and only from 12 characters on', () => {
    const short = new Secret('TEST_REDACT_SHORT', 'postgres');
    const long = new Secret('TEST_REDACT_LONG', 'k3y-value-0123');
    expect(scrubSecrets('"dialect": "postgres", database postgres')).toBe('"dialect": "postgres", database postgres');
    expect(scrubSecrets('postgres://postgres:postgres@db/postgres')).toBe('postgres://postgres:***@db/postgres');
    expect(scrubSecrets('key k3y-value-0123.')).toBe('key [redacted].');
    expect(scrubSecrets('"k3y-value-0123","k3y-value-0123"')).toBe('"[redacted]","[redacted]"');
    expect(scrubSecrets('k3y-value-01234 xk3y-value-0123 k3y-value-0123_b')).toBe('k3y-value-01234 xk3y-value-0123 k3y-value-0123_b');
    short.replace('gone-short-1');
    long.replace('gone-long-value-1');
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

  it("keeps an AggregateError's inner errors, scrubbed, as they say what failed", () => {
    const inner = [new Error('worker stop failed'), new Error('engine close failed at postgres://app:hunter2canary@db/app')];
    const copy = redactValue({ err: new AggregateError(inner, 'Closing the job queue failed in 2 steps') }) as {
      err: { type: string; message: string; errors: Array<{ type: string; message: string }> };
    };
    expect(copy.err).toMatchObject({
      type: 'AggregateError',
      message: 'Closing the job queue failed in 2 steps',
      errors: [
        { type: 'Error', message: 'worker stop failed' },
        { type: 'Error', message: 'engine close failed at postgres://app:***@db/app' },
      ],
    });
    expect(JSON.stringify(redactLogFields({ err: new AggregateError(inner, 'x') }))).not.toContain('hunter2canary');
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
