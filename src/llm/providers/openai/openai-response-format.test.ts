import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../types.js';
import { toOpenAiParams } from './openai-request.js';

const dialect = {
  tokenField: 'max_completion_tokens',
  nativeJsonSchema: true,
  developerRole: true,
  compatibleAnswerFields: false,
} as const;
// Not strict-compatible: `note` is optional, which OpenAI's strict mode refuses with a 400.
const schema = { type: 'object', properties: { word: { type: 'string' }, note: { type: 'string' } }, required: ['word'] };

function sentFormat(strict: boolean | undefined): unknown {
  const request: ChatRequest = {
    model: '',
    messages: [{ role: 'user', content: 'A word?' }],
    responseFormat: { type: 'json_schema', name: 'word', schema, ...(strict === undefined ? {} : { strict }) },
  };
  return (toOpenAiParams(request, 'gpt-4o-mini', dialect) as unknown as Record<string, unknown>)['response_format'];
}

describe('a json_schema response format on the OpenAI wire', () => {
  it('leaves strict out when the caller did not set it, as OpenAI’s default (false) would have it', () => {
    expect(sentFormat(undefined)).toEqual({ type: 'json_schema', json_schema: { name: 'word', schema } });
  });

  it('sends the strict the caller set', () => {
    expect(sentFormat(false)).toEqual({ type: 'json_schema', json_schema: { name: 'word', schema, strict: false } });
    expect(sentFormat(true)).toEqual({ type: 'json_schema', json_schema: { name: 'word', schema, strict: true } });
  });
});
