import { describe, expect, it } from 'vitest';
import { chatCompletionBodySchema } from './chat-request-schema.js';
import { parseChatRequest } from './parse-chat-request.js';
import { isPlainChatBody } from './plain-chat-body.js';

const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

/** Plain bodies the check must take, and bodies it must leave to the schema (valid or not). */
const plain: unknown[] = [
  base,
  { ...base, stream: true, stream_options: { include_usage: true } },
  { ...base, stream: null, stream_options: null, temperature: 0, top_p: 1, max_tokens: 5, seed: -3, user: 'u-1' },
  { ...base, temperature: 2, max_completion_tokens: 9, max_tokens: null, user: null },
  {
    model: 'm',
    messages: [
      { role: 'system', content: 'be brief', name: 'sys' },
      { role: 'developer', content: '' },
      { role: 'user', content: 'q', name: null },
      { role: 'assistant', content: 'a' },
    ],
  },
];
const leftToSchema: unknown[] = [
  null,
  [],
  'text',
  {},
  { model: 'm' },
  { messages: base.messages },
  { ...base, model: '' },
  { ...base, model: 7 },
  { ...base, model: 'm'.repeat(257) },
  { ...base, messages: [] },
  { ...base, messages: {} },
  { ...base, messages: [null] },
  { ...base, messages: [{ role: 'user' }] },
  { ...base, messages: [{ content: 'x' }] },
  { ...base, messages: [{ role: 'tool', content: 'x', tool_call_id: 't' }] },
  { ...base, messages: [{ role: 'function', content: 'x' }] },
  { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] },
  { ...base, messages: [{ role: 'user', content: null }] },
  { ...base, messages: [{ role: 'assistant', content: null, tool_calls: [] }] },
  { ...base, messages: [{ role: 'user', content: 'x', extra: 1 }] },
  { ...base, messages: [{ role: 'user', content: 'x', name: 3 }] },
  { ...base, messages: [{ role: 'USER', content: 'x' }] },
  { ...base, temperature: 2.5 },
  { ...base, temperature: -0.1 },
  { ...base, temperature: '1' },
  { ...base, top_p: 1.1 },
  { ...base, max_tokens: 0 },
  { ...base, max_tokens: 1.5 },
  { ...base, max_tokens: 2 ** 60 },
  { ...base, seed: 0.5 },
  { ...base, stream: 'yes' },
  { ...base, stream_options: { include_usage: 'yes' } },
  { ...base, stream_options: { include_obfuscation: false } },
  { ...base, stream_options: [] },
  { ...base, user: 5 },
  { ...base, n: 2 },
  { ...base, tools: [] },
  { ...base, logit_bias: {} },
  { ...base, some_provider_field: true },
  JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"stream":true}}'),
  Object.assign(Object.create({ inherited: 1 }), base),
];

describe('isPlainChatBody', () => {
  it('takes plain bodies, and each one is a body the schema accepts', () => {
    for (const body of plain) {
      expect(isPlainChatBody(body), JSON.stringify(body)).toBe(true);
      expect(chatCompletionBodySchema.safeParse(body).success, JSON.stringify(body)).toBe(true);
    }
  });

  it('leaves every other body to the schema', () => {
    for (const body of leftToSchema) expect(isPlainChatBody(body), JSON.stringify(body)).toBe(false);
  });

  it('never takes a body the schema refuses', () => {
    for (const body of leftToSchema) {
      if (!chatCompletionBodySchema.safeParse(body).success) expect(isPlainChatBody(body)).toBe(false);
    }
  });

  it('yields the same request as the schema’s path for every plain body', () => {
    for (const body of plain) {
      // An unmodelled field sends the same body through the schema; it then only adds `passthrough`.
      const viaSchema = parseChatRequest({ ...(body as object), x_unmodelled: 1 });
      expect(viaSchema.request.passthrough).toEqual({ x_unmodelled: 1 });
      delete viaSchema.request.passthrough;
      expect(parseChatRequest(body)).toEqual(viaSchema);
    }
  });

  it('still refuses conflicting output maximums on a plain body', () => {
    expect(() => parseChatRequest({ ...base, max_tokens: 5, max_completion_tokens: 6 })).toThrow(/max_tokens: conflicts/);
  });
});
