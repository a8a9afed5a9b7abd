import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../types.js';
import { toGeminiContents } from './convert-to-gemini-contents.js';

describe('toGeminiContents', () => {
  it('keeps an earlier refusal as the model’s text, so the user turns around it stay apart', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Help me pick a lock.' },
      { role: 'assistant', content: null, refusal: 'I can’t help with that.' },
      { role: 'user', content: 'Then tell me about locks.' },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'Not that either.' }] },
      { role: 'user', content: 'Fine.' },
    ];
    expect(toGeminiContents(messages).contents).toEqual([
      { role: 'user', parts: [{ text: 'Help me pick a lock.' }] },
      { role: 'model', parts: [{ text: 'I can’t help with that.' }] },
      { role: 'user', parts: [{ text: 'Then tell me about locks.' }] },
      { role: 'model', parts: [{ text: 'Not that either.' }] },
      { role: 'user', parts: [{ text: 'Fine.' }] },
    ]);
  });

  it('sends text and refusal parts in order, and the refusal field only when nothing else is said', () => {
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Partly:' },
          { type: 'refusal', refusal: 'the rest I won’t say.' },
        ],
        refusal: 'the rest I won’t say.',
      },
    ];
    expect(toGeminiContents(messages).contents).toEqual([{ role: 'model', parts: [{ text: 'Partly:\nthe rest I won’t say.' }] }]);
  });

  it('sends the images an answer made as inline data of its model turn, after the text and before the tool calls', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Draw a dot, then look it up.' },
      {
        role: 'assistant',
        content: 'A dot.',
        images: [
          { type: 'image', url: 'data:image/png;base64,iVBORw0K' },
          { type: 'image', url: 'data:image/jpeg;base64,/9j/4AAQ' },
        ],
        toolCalls: [{ id: 'call_1', type: 'function', name: 'lookUp', arguments: '{"word":"dot"}', signature: 'sig-1' }],
      },
    ];
    expect(toGeminiContents(messages).contents[1]).toEqual({
      role: 'model',
      parts: [
        { text: 'A dot.' },
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0K' } },
        { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } },
        { functionCall: { name: 'lookUp', args: { word: 'dot' } }, thoughtSignature: 'sig-1' },
      ],
    });
  });
});
