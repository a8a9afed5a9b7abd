import { describe, expect, it } from 'vitest';
import { approximateTokens } from './approximate-tokens.js';
import { countTokens, reserveTokens } from './estimate-tokens.js';

const samples: Record<string, string> = {
  english: 'Groundwork is the technical infrastructure that LLM-backed TypeScript applications stand on. '.repeat(10),
  code: 'export function add(left: number, right: number): number {\n  return left + right;\n}\n'.repeat(10),
  json: JSON.stringify(Array.from({ length: 20 }, (_, index) => ({ id: index, name: `item ${index}`, done: index % 2 === 0 }))),
  chinese: '人工智能是计算机科学的一个分支，它企图了解智能的实质。'.repeat(10),
  russian: 'Искусственный интеллект — свойство интеллектуальных систем выполнять творческие функции. '.repeat(10),
};

describe('approximateTokens', () => {
  it('is empty for an empty text and counts words, digit groups and punctuation', () => {
    expect(approximateTokens('')).toBe(0);
    expect(approximateTokens('hello')).toBe(1);
    expect(approximateTokens('hello world')).toBe(2);
    expect(approximateTokens('123456')).toBe(2);
  });

  it.each(Object.keys(samples))('stays within 0.7–1.5 times the o200k tokenizer’s count for %s', (name) => {
    const text = samples[name] as string;
    const ratio = approximateTokens(text) / countTokens(text, 'gpt-4o');
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.5);
  });

  it('reserves the prompt’s estimate, the per-message overhead and the answer’s maximum', () => {
    const messages = [
      { role: 'system' as const, content: 'You translate words.' },
      { role: 'user' as const, content: 'Hello, world!' },
    ];
    expect(reserveTokens(messages, 1024)).toBe(
      3 + 2 * 4 + approximateTokens('You translate words.') + approximateTokens('Hello, world!') + 1024,
    );
  });
});
