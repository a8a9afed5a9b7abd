import { describe, expect, it } from 'vitest';
import { countTokens } from '../resilience/estimate-tokens.js';
import type { DeploymentConfig, ModelGroupConfig } from '../routing/routes-config.js';
import { billableModels, callCostBound, inputTokenBound, NON_TEXT_PART_TOKENS } from './call-cost-bound.js';

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

  it('counts the images an earlier answer made, which go back to the model as input', () => {
    const answer = { role: 'assistant' as const, content: 'Two dots.' };
    const plain = inputTokenBound({ model: 'x', messages: [answer] });
    const dot = { type: 'image' as const, url: 'data:image/png;base64,iVBORw0K' };
    expect(inputTokenBound({ model: 'x', messages: [{ ...answer, images: [dot, dot] }] })).toBe(plain + 2 * NON_TEXT_PART_TOKENS);
  });

  it('counts the answer format (its JSON schema) and the tool choice, as their JSON text', () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const plain = inputTokenBound({ model: 'x', messages });
    const properties = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field_${i}`, { type: 'string' }]));
    const responseFormat = { type: 'json_schema' as const, name: 'big', schema: { type: 'object', properties } };
    const toolChoice = { type: 'function' as const, name: 'lookup' };
    expect(inputTokenBound({ model: 'x', messages, responseFormat })).toBe(plain + Buffer.byteLength(JSON.stringify(responseFormat)));
    expect(inputTokenBound({ model: 'x', messages, toolChoice })).toBe(plain + Buffer.byteLength(JSON.stringify(toolChoice)));
  });

  it('prices the prompt bound and the output maximum of every choice', () => {
    const bound = callCostBound({ model: 'x', messages: [{ role: 'user', content: 'abcd' }], n: 2 }, { input: 1, output: 10 }, 100);
    expect(bound).toEqual({ inputTokens: 11, outputTokens: 200, costUsd: (11 * 1 + 200 * 10) / 1_000_000 });
  });
});

describe('billableModels', () => {
  const group = (name: string, models: string[], fallbacks: string[] = []): ModelGroupConfig => ({
    name,
    strategy: 'weighted-random',
    fallbacks,
    deployments: models.map((model, index) => ({ name: `d${index}`, group: name, model })) as unknown as DeploymentConfig[],
  });
  const groups = {
    'chat-fast': group('chat-fast', ['gpt-4o-mini', 'claude-haiku-4-5', 'gpt-4o-mini'], ['chat-safe', 'chat-missing', 'chat-safe']),
    'chat-safe': group('chat-safe', ['gpt-4o'], ['chat-last']),
    'chat-last': group('chat-last', ['o3']),
  };

  it("names each model of a group's deployments and of its fallback groups' (as the router reaches them), once", () => {
    expect(billableModels('chat-fast', { groups, fallbackModels: ['gemini-2.5-pro'], noFallbacks: false })).toEqual([
      'gpt-4o-mini',
      'claude-haiku-4-5',
      'gpt-4o',
    ]);
    // A group is never pinned: its deployments and its own fallback groups' are reached.
    expect(billableModels('chat-safe', { groups, fallbackModels: [], noFallbacks: true })).toEqual(['gpt-4o', 'o3']);
  });

  it('names a model that is no group and its fallbacks, unless pinned; a deployment model is not its group', () => {
    const reach = { groups, fallbackModels: ['gpt-4o', 'gpt-4o-mini'], noFallbacks: false };
    expect(billableModels('gpt-4o-mini', reach)).toEqual(['gpt-4o-mini', 'gpt-4o']);
    expect(billableModels('gpt-4o-mini', { ...reach, noFallbacks: true })).toEqual(['gpt-4o-mini']);
    expect(billableModels('toString', { groups, fallbackModels: [], noFallbacks: false })).toEqual(['toString']);
    expect(billableModels('chat-fast', { fallbackModels: [], noFallbacks: false })).toEqual(['chat-fast']);
  });
});
