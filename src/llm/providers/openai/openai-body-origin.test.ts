import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../types.js';
import { openAiBodyOf, rememberOpenAiBody } from './openai-body-origin.js';
import type { OpenAiDialect } from './openai-dialect.js';

const OPENAI: OpenAiDialect = { tokenField: 'max_completion_tokens', nativeJsonSchema: true, developerRole: true };
const COMPATIBLE: OpenAiDialect = { tokenField: 'max_tokens', nativeJsonSchema: false, developerRole: false };

function read(): { body: Record<string, unknown>; request: ChatRequest } {
  const body = {
    user: 'u',
    model: 'asked',
    messages: [{ role: 'developer', content: 'Terse.' }],
    temperature: 0,
    max_tokens: 9,
    stream: true,
  };
  const request: ChatRequest = {
    model: 'asked',
    messages: [{ role: 'developer', content: 'Terse.' }],
    temperature: 0,
    maxTokens: 9,
    user: 'u',
  };
  rememberOpenAiBody(request, body);
  return { body, request };
}

describe('openAiBodyOf', () => {
  it('gives the caller’s body with the model, the dialect’s token field and no stream flags, in the caller’s order', () => {
    const { request } = read();
    const wire = openAiBodyOf({ ...request, model: 'gpt-4o' }, 'gpt-4o', OPENAI);
    expect(wire).toEqual({
      model: 'gpt-4o',
      user: 'u',
      messages: [{ role: 'developer', content: 'Terse.' }],
      temperature: 0,
      max_completion_tokens: 9,
    });
    expect(Object.keys(wire!)).toEqual(['model', 'user', 'messages', 'temperature', 'max_completion_tokens']);
  });

  it('sets the output maximum a stage bounded, and leaves it out when the request has none', () => {
    const { request } = read();
    expect(openAiBodyOf({ ...request, maxTokens: 4 }, 'm', OPENAI)).toMatchObject({ max_completion_tokens: 4 });
    const { maxTokens: _max, ...unbounded } = request;
    expect(openAiBodyOf(unbounded, 'm', OPENAI)).not.toHaveProperty('max_completion_tokens');
    expect(openAiBodyOf(unbounded, 'm', OPENAI)).not.toHaveProperty('max_tokens');
  });

  it('asks for a translation when a stage changed, added or removed a field, or replaced the messages', () => {
    const { request } = read();
    expect(openAiBodyOf({ ...request, temperature: 1 }, 'm', OPENAI)).toBeUndefined();
    expect(openAiBodyOf({ ...request, seed: 3 }, 'm', OPENAI)).toBeUndefined();
    const { user: _user, ...withoutUser } = request;
    expect(openAiBodyOf(withoutUser, 'm', OPENAI)).toBeUndefined();
    expect(openAiBodyOf({ ...request, messages: [...request.messages] }, 'm', OPENAI)).toBeUndefined();
  });

  it('asks for a translation of a request never read from a body, and of a developer message a dialect lacks', () => {
    const { request } = read();
    expect(openAiBodyOf({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, 'm', OPENAI)).toBeUndefined();
    expect(openAiBodyOf(request, 'm', COMPATIBLE)).toBeUndefined();
  });
});
