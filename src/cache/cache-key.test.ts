import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../llm/types.js';
import { type CacheKeyParts, cacheKey } from './cache-key.js';
import { canonicalJson } from './canonical-json.js';

const base: CacheKeyParts = {
  provider: 'openai',
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'Capital of France?' },
  ],
  temperature: 0,
  namespace: 'default',
};

describe('cacheKey', () => {
  it('is a hex SHA-256, the same for the same parts', () => {
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base })).toBe(cacheKey(base));
  });

  it('does not depend on key order or on undefined versus absent fields', () => {
    const reordered: CacheKeyParts = {
      namespace: 'default',
      temperature: 0,
      messages: base.messages.map((message) => ({ content: message.content, role: message.role }) as ChatMessage),
      model: 'gpt-4o-mini',
      provider: 'openai',
      seed: undefined,
      responseFormat: undefined,
    };
    expect(cacheKey(reordered)).toBe(cacheKey(base));
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } } };
    const sameSchema = { properties: { b: { type: 'number' }, a: { type: 'string' } }, type: 'object' };
    expect(cacheKey({ ...base, schema })).toBe(cacheKey({ ...base, schema: sameSchema }));
  });

  it.each<[string, Partial<CacheKeyParts>]>([
    ['provider', { provider: 'anthropic' }],
    ['model', { model: 'gpt-4o' }],
    ['message content', { messages: [{ role: 'user', content: 'Capital of Spain?' }] }],
    [
      'message role',
      {
        messages: [
          { role: 'system', content: 'Answer briefly.' },
          { role: 'assistant', content: 'Capital of France?' },
        ],
      },
    ],
    ['message order', { messages: [...base.messages].reverse() }],
    ['temperature', { temperature: 0.7 }],
    ['top_p', { topP: 0.9 }],
    ['max tokens', { maxTokens: 100 }],
    ['stop sequences', { stop: ['\n'] }],
    ['seed', { seed: 42 }],
    ['response format', { responseFormat: { type: 'json_object' } }],
    ['schema', { responseFormat: { type: 'json_schema', name: 'city', schema: { type: 'object' } } }],
    ['validation schema', { schema: { type: 'object', required: ['city'] } }],
    ['prompt name', { promptName: 'capital' }],
    ['prompt version', { promptName: 'capital', promptVersion: 2 }],
    ['namespace', { namespace: 'tenant-b' }],
  ])('changes with the %s', (_label, change) => {
    expect(cacheKey({ ...base, ...change })).not.toBe(cacheKey(base));
  });

  it('hashes every request field: tools, tool choice, penalties, user, pass-through fields, message parts', () => {
    const variants: CacheKeyParts[] = [
      { ...base, tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' } }] },
      { ...base, toolChoice: 'required' },
      { ...base, presencePenalty: 0.5 },
      { ...base, user: 'user-1' },
      { ...base, n: 2 },
      { ...base, passthrough: { modalities: ['text'] } },
      { ...base, messages: [{ role: 'user', content: [{ type: 'image', url: 'https://example.com/a.png' }] }] },
    ];
    const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('never confuses where the prompt name ends and its version begins', () => {
    expect(cacheKey({ ...base, promptName: 'a:b', promptVersion: 'c' })).not.toBe(
      cacheKey({ ...base, promptName: 'a', promptVersion: 'b:c' }),
    );
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
