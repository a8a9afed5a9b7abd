import { describe, expect, it } from 'vitest';
import { arePlainMessages, isPlainRequest } from './plain-request.js';
import type { ChatRequest } from './types.js';
import { requestSchema, validateRequest } from './validate-request.js';

const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

const plain: unknown[] = [
  base,
  { ...base, temperature: 0, topP: 1, maxTokens: 5, seed: -3, user: 'u-1' },
  { ...base, temperature: 2 },
  {
    model: 'm',
    messages: [
      { role: 'system', content: 'be brief', name: 'sys' },
      { role: 'developer', content: '' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
    ],
  },
];
const leftToSchema: unknown[] = [
  { model: 'm', messages: [] },
  { model: '', messages: base.messages },
  { model: 'm' },
  { ...base, messages: [{ role: 'user' }] },
  { ...base, messages: [{ role: 'user', content: 'x', name: null }] },
  { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] },
  { ...base, messages: [{ role: 'assistant', content: null }] },
  { ...base, messages: [{ role: 'tool', content: 'x', toolCallId: 't' }] },
  { ...base, messages: [{ role: 'user', content: 'x', extra: 1 }] },
  { ...base, temperature: 3 },
  { ...base, temperature: undefined },
  { ...base, topP: -1 },
  { ...base, maxTokens: 0 },
  { ...base, maxTokens: 2.5 },
  { ...base, seed: 0.5 },
  { ...base, user: 1 },
  { ...base, tools: [] },
  { ...base, toolChoice: 'required' },
  { ...base, topLogprobs: 2 },
  { ...base, stop: ['a', 'b', 'c', 'd', 'e'] },
  { ...base, passthrough: { x: 1 } },
  Object.assign(Object.create({ tools: 'inherited' }), base),
];

describe('isPlainRequest', () => {
  it('takes plain requests, and the request schema accepts each one', () => {
    for (const request of plain) {
      expect(isPlainRequest(request as ChatRequest), JSON.stringify(request)).toBe(true);
      expect(requestSchema.safeParse(request).success, JSON.stringify(request)).toBe(true);
    }
  });

  it('leaves every other request to the schema, which words the errors as before', () => {
    for (const request of leftToSchema) expect(isPlainRequest(request as ChatRequest), JSON.stringify(request)).toBe(false);
    expect(() => validateRequest({ model: '', messages: [] })).toThrow(/model: must name a model[\s\S]*messages: must not be empty/);
    expect(() => validateRequest({ ...base, temperature: 3 } as ChatRequest)).toThrow(/temperature/);
  });
});

describe('arePlainMessages', () => {
  it('allows a null name only on the wire, and never an empty list', () => {
    const named = [{ role: 'user', content: 'x', name: null }];
    expect(arePlainMessages(named, true)).toBe(true);
    expect(arePlainMessages(named, false)).toBe(false);
    expect(arePlainMessages([], true)).toBe(false);
    expect(arePlainMessages([Object.assign(Object.create({ extra: 1 }), { role: 'user', content: 'x' })], true)).toBe(false);
  });
});
