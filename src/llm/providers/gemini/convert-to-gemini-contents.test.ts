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
});
