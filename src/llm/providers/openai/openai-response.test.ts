import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../errors/provider-errors.js';
import { mapOpenAiChoices, mapOpenAiCompletion, mapOpenAiMessage } from './openai-response.js';

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

describe('mapOpenAiChoices', () => {
  const choice = (index: unknown) => ({ index, message: { role: 'assistant', content: 'a' }, finish_reason: 'stop' });

  it('orders choices by their index, and takes a missing index from the position', () => {
    const choices = [choice(1), choice(0), choice(undefined)] as unknown as Parameters<typeof mapOpenAiChoices>[0];
    expect(mapOpenAiChoices(choices, 'openai', 'm').map((mapped) => mapped.index)).toEqual([0, 1, 2]);
  });

  it.each([
    ['a negative index', -1, 'choice index is -1'],
    ['a fraction', 0.5, 'choice index is 0.5'],
    ['an index past the range of a double', Number.POSITIVE_INFINITY, 'choice index is Infinity'],
    ['a string', '1', 'choice index is "1"'],
  ])('fails an answer whose choice has %s, naming it', (_name, index, message) => {
    const choices = [choice(index)] as unknown as Parameters<typeof mapOpenAiChoices>[0];
    const map = () => mapOpenAiChoices(choices, 'azure', 'gpt-4o');
    expect(map).toThrow(MalformedResponseError);
    expect(map).toThrow(message);
  });
});

describe('mapOpenAiCompletion', () => {
  const answer = (created: unknown) =>
    ({
      id: 'chatcmpl-local',
      object: 'chat.completion',
      created,
      model: 'llama3.1',
      choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'stop' }],
    }) as unknown as Parameters<typeof mapOpenAiCompletion>[0];

  it('keeps a creation time in whole seconds', () => {
    expect(mapOpenAiCompletion(answer(1741570000), 'm', 'openai-compatible').created).toBe(1741570000);
  });

  it.each([
    ['a fraction of a second', 1741570000.5],
    ['zero', 0],
    ['a negative time', -1],
    ['a string', '1741570000'],
  ])('leaves out a creation time that is %s, for one of its own to take its place', (_name, created) => {
    const mapped = mapOpenAiCompletion(answer(created), 'm', 'openai-compatible');
    expect(mapped).not.toHaveProperty('created');
    expect(mapped.id).toBe('chatcmpl-local');
  });
});
