import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from './fake-behaviour.js';
import { toolResultsOf } from './fake-tool-results.js';

const recorded = (wire: RecordedRequest['wire'], body: unknown): RecordedRequest => ({
  wire,
  method: 'POST',
  path: '/',
  query: {},
  headers: {},
  body,
  stream: false,
});

describe('toolResultsOf', () => {
  it('reads a Bedrock tool result sent as JSON, as Converse allows, not only as text', () => {
    const request = recorded('bedrock', {
      messages: [
        { role: 'user', content: [{ text: 'Weather?' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'weather', input: {} } }] },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 't1', content: [{ json: { celsius: 21 } }] } },
            { toolResult: { toolUseId: 't2', content: [{ text: 'sunny' }], status: 'error' } },
          ],
        },
      ],
    });
    expect(toolResultsOf(request)).toEqual([
      { toolCallId: 't1', content: '{"celsius":21}', isError: false },
      { toolCallId: 't2', content: 'sunny', isError: true },
    ]);
  });
});
