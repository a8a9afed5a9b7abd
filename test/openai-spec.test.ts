import { describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from './openai-spec.js';

const answer = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', refusal: null }, logprobs: null, finish_reason: 'stop' }],
};

describe('validateOpenAiSchema', () => {
  it('accepts a valid answer and names each problem of an invalid one', () => {
    expect(validateOpenAiSchema('CreateChatCompletionResponse', answer)).toEqual([]);
    const problems = validateOpenAiSchema('CreateChatCompletionResponse', {
      ...answer,
      system_fingerprint: null,
      choices: [{ ...answer.choices[0], finish_reason: 'done' }],
    });
    expect(problems).toEqual([
      '/choices/0/finish_reason: must be equal to one of the allowed values',
      '/system_fingerprint: must be string',
    ]);
  });

  it('reads OpenAPI’s nullable and resolves references between components', () => {
    const chunk = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      usage: null,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] },
          finish_reason: null,
        },
      ],
    };
    expect(validateOpenAiSchema('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    expect(validateOpenAiSchema('CreateChatCompletionStreamResponse', { ...chunk, usage: { prompt_tokens: 'many' } })).not.toEqual([]);
  });

  it('refuses a schema name the spec does not have', () => {
    expect(() => validateOpenAiSchema('NoSuchSchema', {})).toThrow(/no component schema named NoSuchSchema/);
  });
});
