import { describe, expect, it } from 'vitest';
import { countTokens, encodingFor, estimateTokens } from './estimate-tokens.js';

describe('estimateTokens', () => {
  it('knows the OpenAI model families’ tokenizers', () => {
    expect(encodingFor('gpt-4o-mini')).toBe('o200k_base');
    expect(encodingFor('o3-mini')).toBe('o200k_base');
    expect(encodingFor('gpt-4.1')).toBe('o200k_base');
    expect(encodingFor('gpt-4-turbo')).toBe('cl100k_base');
    expect(encodingFor('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingFor('claude-3-5-haiku-latest')).toBeUndefined();
    expect(encodingFor('llama3.1')).toBeUndefined();
  });

  it('counts with the tokenizer where known, four characters a token otherwise', () => {
    expect(countTokens('Hello, world!', 'gpt-4o')).toBe(4);
    expect(countTokens('Hello, world!', 'gpt-4')).toBe(4);
    expect(countTokens('Hello, world!', 'claude-3-5-haiku-latest')).toBe(4);
    expect(countTokens('x'.repeat(401), 'unknown-model')).toBe(101);
  });

  it('adds the per-message overhead and the answer’s maximum', () => {
    const messages = [
      { role: 'system' as const, content: 'You translate words.' },
      { role: 'user' as const, content: 'Hello, world!' },
    ];
    const prompt = 3 + 2 * 4 + countTokens('You translate words.', 'gpt-4o') + 4;
    expect(estimateTokens(messages, 'gpt-4o', 1024)).toBe(prompt + 1024);
  });

  it('caches encoders: a second count is fast', () => {
    countTokens('warm up', 'gpt-4o');
    const started = performance.now();
    for (let index = 0; index < 100; index++) countTokens('A short sentence to count.', 'gpt-4o');
    expect(performance.now() - started).toBeLessThan(200);
  });
});
