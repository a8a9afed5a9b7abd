import { describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../../test/openai-spec.js';
import { ResponseEnvelope } from './response-object.js';

describe('ResponseEnvelope', () => {
  it('answers a Response OpenAI’s schema takes for a request that sent null settings or a schema without a name', () => {
    const body = {
      model: 'm',
      input: 'hi',
      tools: null,
      tool_choice: null,
      parallel_tool_calls: null,
      text: { format: { type: 'json_schema', schema: { type: 'object' } } },
    };
    const response = new ResponseEnvelope(body).build({
      status: 'completed',
      model: 'm',
      output: [],
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    });
    expect(validateOpenAiSchema('Response', response)).toEqual([]);
    expect(response).toMatchObject({
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      text: { format: { type: 'json_schema', name: 'response', schema: { type: 'object' } } },
    });
  }, 180_000);
});
