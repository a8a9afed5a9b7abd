import { describe, expect, it } from 'vitest';
import { toAnthropicConversation, toolInput } from './convert-to-anthropic-messages.js';

describe('toAnthropicConversation', () => {
  it('keeps an earlier refusal as the assistant’s text and skips an assistant turn with nothing in it', () => {
    expect(
      toAnthropicConversation([
        { role: 'user', content: 'Do it' },
        { role: 'assistant', content: null, refusal: 'I can’t.' },
        { role: 'user', content: 'Please' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'Still no.' }] },
        { role: 'assistant', content: '' },
      ]),
    ).toEqual({
      system: undefined,
      messages: [
        { role: 'user', content: 'Do it' },
        { role: 'assistant', content: 'I can’t.' },
        { role: 'user', content: 'Please' },
        { role: 'assistant', content: 'Still no.' },
      ],
    });
  });

  it('puts tool results first in a merged user turn, whatever order they came in', () => {
    const { messages } = toAnthropicConversation([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', toolCalls: [{ id: 't1', type: 'function', name: 'f', arguments: '' }] },
      { role: 'user', content: 'Also this' },
      { role: 'tool', toolCallId: 't1', content: '' },
    ]);
    expect(messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1' },
          { type: 'text', text: 'Also this' },
        ],
      },
    ]);
  });
});

describe('toolInput', () => {
  it.each([
    ['', {}],
    ['{"a":1}', { a: 1 }],
    ['[1]', undefined],
    ['"text"', undefined],
    ['{"a":', undefined],
  ])('reads %j as %j', (text, input) => {
    expect(toolInput(text)).toEqual(input);
  });
});
