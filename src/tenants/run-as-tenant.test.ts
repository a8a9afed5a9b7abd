import { describe, expect, it } from 'vitest';
import { countTokens } from '../resilience/estimate-tokens.js';
import { embeddingInputTokenBound } from './run-as-tenant.js';

const text = 'Paris, capitale de la France — où l’on mange des croissants.';

describe('embeddingInputTokenBound', () => {
  it('counts texts with the model’s tokenizer, and token arrays by their length', () => {
    expect(embeddingInputTokenBound(['text-embedding-3-small'], [text, [1, 2, 3]])).toBe(countTokens(text, 'text-embedding-3-small') + 3);
  });

  it('takes the largest count over the tokenizers of the models the call may reach', () => {
    const cl100k = countTokens(text, 'text-embedding-3-small');
    const o200k = countTokens(text, 'gpt-4o');
    expect(cl100k).not.toBe(o200k);
    expect(embeddingInputTokenBound(['text-embedding-3-small', 'text-embedding-3-large', 'gpt-4o'], [text])).toBe(Math.max(cl100k, o200k));
  });

  it('counts UTF-8 bytes, which bound every tokenizer, when a model the call may reach has no known tokenizer', () => {
    const bytes = Buffer.byteLength(text, 'utf8');
    expect(bytes).toBeGreaterThan(countTokens(text, 'text-embedding-3-small'));
    expect(embeddingInputTokenBound(['text-embedding-3-small', 'my-local-embedder'], [text, [7]])).toBe(bytes + 1);
    expect(embeddingInputTokenBound(['my-local-embedder'], [text])).toBe(bytes);
  });
});
