import { describe, expect, it } from 'vitest';
import { mapOpenAiMessage } from './openai-response.js';

describe('mapOpenAiMessage', () => {
  it('keeps message fields Groundwork does not model, verbatim, in passthrough', () => {
    const audio = { id: 'audio_1', data: 'UklGRg==', expires_at: 1, transcript: 'Hi' };
    const annotations = [{ type: 'url_citation', url_citation: { url: 'https://example.com', title: 'x', start_index: 0, end_index: 2 } }];
    expect(mapOpenAiMessage({ role: 'assistant', content: 'Hi', refusal: null, audio, annotations })).toEqual({
      content: 'Hi',
      passthrough: { audio, annotations },
    });
  });

  it('maps function tool calls and keeps other kinds of tool call in passthrough', () => {
    const custom = { id: 'call_2', type: 'custom', custom: { name: 'grammar', input: 'x' } };
    const message = mapOpenAiMessage({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }, custom],
    });
    expect(message).toEqual({
      content: null,
      toolCalls: [{ id: 'call_1', type: 'function', name: 'f', arguments: '{"a":1}' }],
      passthrough: { tool_calls: [custom] },
    });
  });

  it('returns a refusal as the answer, not an error', () => {
    expect(mapOpenAiMessage({ role: 'assistant', content: null, refusal: 'No.' })).toEqual({ content: null, refusal: 'No.' });
  });
});
