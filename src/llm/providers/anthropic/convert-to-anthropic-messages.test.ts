import type { Message } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import { completionOf } from '../../model/completion-of.js';
import type { AssistantMessage } from '../../types.js';
import { toAnthropicParams } from './anthropic-request.js';
import { mapAnthropicMessage } from './anthropic-response.js';
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

describe('toAnthropicParams after a thinking answer that called a tool', () => {
  const answer = {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [
      { type: 'thinking', thinking: 'Ask the weather tool.', signature: 'EqQBCgIYAhIM' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' },
      { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 20 },
  } as unknown as Message;

  it('begins the assistant turn with the signed thinking and the redacted thinking, as they came', () => {
    const completion = completionOf({ provider: 'anthropic', ...mapAnthropicMessage(answer, 'claude-sonnet-4-5', undefined) });
    const assistant: AssistantMessage = { role: 'assistant', content: null };
    if (completion.toolCalls !== undefined) assistant.toolCalls = completion.toolCalls;
    if (completion.reasoning !== undefined) assistant.reasoning = completion.reasoning;
    const params = toAnthropicParams(
      {
        model: '',
        reasoningEffort: 'low',
        messages: [{ role: 'user', content: 'How warm is it in Oslo?' }, assistant, { role: 'tool', toolCallId: 'toolu_1', content: '3' }],
      },
      'claude-sonnet-4-5',
    );
    expect(params.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Ask the weather tool.', signature: 'EqQBCgIYAhIM' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
      ],
    });
  });

  it('leaves out reasoning another provider made', () => {
    const { messages } = toAnthropicConversation([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello', reasoning: [{ type: 'thinking', provider: 'bedrock', text: 'x', signature: 's' }] },
    ]);
    expect(messages[1]).toEqual({ role: 'assistant', content: 'Hello' });
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
