import { describe, expect, it } from 'vitest';
import { toBedrockMessages } from './convert-to-bedrock-messages.js';

describe('toBedrockMessages', () => {
  it('keeps an earlier refusal as the assistant turn that said it', () => {
    const { messages } = toBedrockMessages([
      { role: 'user', content: 'Tell me how.' },
      { role: 'assistant', content: null, refusal: 'I can’t help with that.' },
      { role: 'user', content: 'Then tell me a joke.' },
    ]);
    expect(messages).toEqual([
      { role: 'user', content: [{ text: 'Tell me how.' }] },
      { role: 'assistant', content: [{ text: 'I can’t help with that.' }] },
      { role: 'user', content: [{ text: 'Then tell me a joke.' }] },
    ]);
  });

  it('keeps refusal parts among the text parts, in order', () => {
    const { messages } = toBedrockMessages([
      { role: 'user', content: 'Tell me how.' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Well…' },
          { type: 'refusal', refusal: 'No.' },
        ],
      },
    ]);
    expect(messages[1]).toEqual({ role: 'assistant', content: [{ text: 'Well…' }, { text: 'No.' }] });
  });
});
