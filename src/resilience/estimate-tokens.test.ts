import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { countTokens, encodingFor, estimateTokens } from './estimate-tokens.js';

// The tokenizer module as the code under test loads it (require, one shared copy), so that a test can count the encoders it builds.
const tiktoken = createRequire(import.meta.url)('js-tiktoken/lite') as { Tiktoken: typeof import('js-tiktoken/lite').Tiktoken };

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

  it('caches encoders: builds each tokenizer once, however often it counts', async () => {
    const { Tiktoken } = tiktoken;
    let built = 0;
    tiktoken.Tiktoken = class extends Tiktoken {
      constructor(...args: ConstructorParameters<typeof Tiktoken>) {
        super(...args);
        built++;
      }
    };
    try {
      // A fresh copy of the module, whose cache is empty whatever ran before.
      vi.resetModules();
      const fresh = await import('./estimate-tokens.js');
      for (let index = 0; index < 100; index++) fresh.countTokens('A short sentence to count.', 'gpt-4o');
      expect(built).toBe(1);
      fresh.countTokens('A short sentence to count.', 'gpt-4');
      expect(built).toBe(2);
    } finally {
      tiktoken.Tiktoken = Tiktoken;
    }
  });
});
