import { describe, expect, it } from 'vitest';
import { countTokens } from '../resilience/estimate-tokens.js';
import { callCostBound, inputTokenBound, NON_TEXT_PART_TOKENS } from './call-cost-bound.js';

describe('callCostBound', () => {
  it('counts with the tokenizer where the model has one, and a token per UTF-8 byte where it has not', () => {
    const text = 'Grüße aus München — 你好';
    expect(inputTokenBound({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] })).toBe(
      3 + 4 + countTokens(text, 'gpt-4o-mini'),
    );
    expect(inputTokenBound({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: text }] })).toBe(
      3 + 4 + Buffer.byteLength(text),
    );
  });

  it('counts tool definitions, tool calls and non-text parts', () => {
    const tools = [{ type: 'function' as const, name: 'lookup', parameters: { type: 'object' } }];
    const plain = inputTokenBound({ model: 'x', messages: [{ role: 'user', content: 'hi' }] });
    expect(inputTokenBound({ model: 'x', messages: [{ role: 'user', content: 'hi' }], tools })).toBe(
      plain + Buffer.byteLength(JSON.stringify(tools)),
    );
    const withImage = inputTokenBound({
      model: 'x',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image', url: 'https://example.com/a.png' },
          ],
        },
      ],
    });
    expect(withImage).toBe(plain + NON_TEXT_PART_TOKENS);
  });

  it('prices the prompt bound and the output maximum of every choice', () => {
    const bound = callCostBound({ model: 'x', messages: [{ role: 'user', content: 'abcd' }], n: 2 }, { input: 1, output: 10 }, 100);
    expect(bound).toEqual({ inputTokens: 11, outputTokens: 200, costUsd: (11 * 1 + 200 * 10) / 1_000_000 });
  });
});
