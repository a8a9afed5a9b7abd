import type { GenerateContentResponse } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { completionOf } from '../../model/completion-of.js';
import { toGeminiContents } from './convert-to-gemini-contents.js';
import { GeminiAnswerAssembler } from './gemini-answer-assembler.js';

describe('Gemini thought signatures', () => {
  it('go from a functionCall part to its tool call, and back on the same part in the next turn', () => {
    const assembler = new GeminiAnswerAssembler('gemini-3-pro-preview');
    assembler.accept({
      candidates: [
        {
          index: 0,
          content: {
            role: 'model',
            parts: [
              { functionCall: { id: 'c1', name: 'weather', args: { city: 'Oslo' } }, thoughtSignature: 'sig-A' },
              { functionCall: { id: 'c2', name: 'weather', args: { city: 'Rome' } } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    } as unknown as GenerateContentResponse);
    const completion = completionOf({ provider: 'gemini', ...assembler.completion() });
    expect(completion.toolCalls?.map((call) => call.signature)).toEqual(['sig-A', undefined]);
    const { contents } = toGeminiContents([
      { role: 'user', content: 'How warm is it in Oslo and Rome?' },
      { role: 'assistant', content: null, toolCalls: completion.toolCalls ?? [] },
      { role: 'tool', toolCallId: 'c1', content: '3' },
      { role: 'tool', toolCallId: 'c2', content: '21' },
    ]);
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        { functionCall: { name: 'weather', args: { city: 'Oslo' } }, thoughtSignature: 'sig-A' },
        { functionCall: { name: 'weather', args: { city: 'Rome' } } },
      ],
    });
  });

  it('go from an inlineData part to its image, and back on the same part in the next turn', () => {
    const assembler = new GeminiAnswerAssembler('gemini-3-pro-image-preview');
    assembler.accept({
      candidates: [
        {
          index: 0,
          content: {
            role: 'model',
            parts: [
              { text: 'Two dots.' },
              { inlineData: { mimeType: 'image/png', data: 'AAAA' }, thoughtSignature: 'sig-A' },
              { inlineData: { mimeType: 'image/png', data: 'BBBB' } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    } as unknown as GenerateContentResponse);
    const images = completionOf({ provider: 'gemini', ...assembler.completion() }).choices[0]?.message.passthrough?.['images'];
    expect(images).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' }, signature: 'sig-A' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,BBBB' } },
    ]);
    const { contents } = toGeminiContents([
      { role: 'user', content: 'Draw two dots.' },
      {
        role: 'assistant',
        content: 'Two dots.',
        images: [
          { type: 'image', url: 'data:image/png;base64,AAAA', signature: 'sig-A' },
          { type: 'image', url: 'data:image/png;base64,BBBB' },
        ],
      },
      { role: 'user', content: 'Only the first.' },
    ]);
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        { text: 'Two dots.' },
        { inlineData: { mimeType: 'image/png', data: 'AAAA' }, thoughtSignature: 'sig-A' },
        { inlineData: { mimeType: 'image/png', data: 'BBBB' } },
      ],
    });
  });

  it('go from a streamed answer’s last, empty, text part to a Gemini reasoning block, and back on the text', () => {
    const assembler = new GeminiAnswerAssembler('gemini-3-pro-preview');
    const chunk = (part: Record<string, unknown>, finishReason?: string) =>
      ({ candidates: [{ index: 0, content: { role: 'model', parts: [part] }, finishReason }] }) as unknown as GenerateContentResponse;
    assembler.accept(chunk({ text: 'Lima is ' }));
    assembler.accept(chunk({ text: 'in Peru.' }));
    assembler.accept(chunk({ text: '', thoughtSignature: 'sig-T' }, 'STOP'));
    const completion = completionOf({ provider: 'gemini', ...assembler.completion() });
    expect(completion.content).toBe('Lima is in Peru.');
    expect(completion.reasoning).toEqual([{ type: 'thinking', provider: 'gemini', text: '', signature: 'sig-T' }]);
    const { contents } = toGeminiContents([
      { role: 'user', content: 'Where is Lima?' },
      {
        role: 'assistant',
        content: 'Lima is in Peru.',
        // Another provider's signed thinking is not Gemini's to take.
        reasoning: [{ type: 'thinking', provider: 'anthropic', text: 'Hmm.', signature: 'sig-anthropic' }, ...(completion.reasoning ?? [])],
      },
      { role: 'user', content: 'And Quito?' },
    ]);
    expect(contents[1]).toEqual({ role: 'model', parts: [{ text: 'Lima is in Peru.', thoughtSignature: 'sig-T' }] });
  });
});
