import { describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../types.js';
import { answerExtras } from './answer-extras.js';

/** An answer with `content` whose first choice's message carries `passthrough`. */
function completion(content: string, passthrough: Record<string, unknown>): ChatCompletion {
  return {
    provider: 'openai-compatible',
    model: 'm',
    content,
    finishReason: 'stop',
    choices: [{ index: 0, message: { content, passthrough }, finishReason: 'stop' }],
    usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
  };
}

describe('answerExtras', () => {
  it('keeps reasoning text, data: URL images and URL citations in the Responses API’s shapes', () => {
    const extras = answerExtras(
      completion('See it.', {
        reasoning_content: 'Look first.',
        images: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
        annotations: [{ type: 'url_citation', url_citation: { start_index: 0, end_index: 3, url: 'https://a.example/', title: 'A' } }],
      }),
    );
    expect(extras).toEqual({
      reasoning: 'Look first.',
      images: ['AAAA'],
      annotations: [{ type: 'url_citation', start_index: 0, end_index: 3, url: 'https://a.example/', title: 'A' }],
      dropped: [],
    });
  });

  it('names every field it cannot carry, and only those: unknown fields, images by remote URL, citations of no text or another kind', () => {
    const remote = [{ type: 'image_url', image_url: { url: 'https://a.example/cat.png' } }];
    const citation = { type: 'url_citation', url_citation: { start_index: 0, end_index: 1, url: 'https://a.example/', title: 'A' } };
    expect(answerExtras(completion('Hi.', { audio: { id: 'a' }, images: remote, reasoning_content: 7 })).dropped).toEqual([
      'audio',
      'images',
      'reasoning_content',
    ]);
    expect(answerExtras(completion('', { annotations: [citation] })).dropped).toEqual(['annotations']);
    expect(answerExtras(completion('Hi.', { annotations: [{ type: 'file_citation', file_id: 'f' }] })).dropped).toEqual(['annotations']);
    // Reasoning under both names: one text carried; a second, different one has no place.
    expect(answerExtras(completion('Hi.', { reasoning: 'Look first.' })).reasoning).toBe('Look first.');
    expect(answerExtras(completion('Hi.', { reasoning_content: 'Look.', reasoning: 'Look.' }))).toMatchObject({
      reasoning: 'Look.',
      dropped: [],
    });
    expect(answerExtras(completion('Hi.', { reasoning_content: 'Look.', reasoning: 'Think.' }))).toMatchObject({
      reasoning: 'Look.',
      dropped: ['reasoning'],
    });
    // OpenAI's empty list, an empty reasoning text and null fields say nothing.
    expect(answerExtras(completion('', { annotations: [], reasoning_content: '', audio: null }))).toEqual({
      reasoning: undefined,
      images: [],
      annotations: [],
      dropped: [],
    });
  });
});
