import type { GenerateContentResponse } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError, UnprocessableEntityError } from '../../../errors/provider-errors.js';
import { GeminiAnswerAssembler } from './gemini-answer-assembler.js';

/** A stream chunk as the Gemini API sends it, parsed from its JSON text. */
function chunk(candidates: string): GenerateContentResponse {
  return JSON.parse(`{"candidates":[${candidates}],"modelVersion":"gemini-2.5-flash"}`) as GenerateContentResponse;
}

describe('GeminiAnswerAssembler', () => {
  it.each([
    ['an index past the range of a double', '{"index":1e400,"content":{"parts":[{"text":"a"}]}}', 'candidate index is Infinity'],
    ['a negative index', '{"index":-2,"content":{"parts":[{"text":"a"}]}}', 'candidate index is -2'],
    ['an index given as a string', '{"index":"0","content":{"parts":[{"text":"a"}]}}', 'candidate index is "0"'],
  ])('fails the stream on %s, naming it', (_name, candidate, message) => {
    const accept = () => new GeminiAnswerAssembler('gemini-2.5-flash').accept(chunk(candidate));
    expect(accept).toThrow(MalformedResponseError);
    expect(accept).toThrow(message);
    expect(accept).toThrow(expect.objectContaining({ provider: 'gemini', model: 'gemini-2.5-flash' }));
  });

  it('takes a candidate without an index at its position', () => {
    const events = new GeminiAnswerAssembler('gemini-2.5-flash').accept(
      chunk('{"index":0,"content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]}}'),
    );
    expect(events).toEqual([
      { type: 'delta', text: 'a', choice: 0 },
      { type: 'delta', text: 'b', choice: 1 },
    ]);
  });

  it('fails an answer holding inline data that is no image, naming its media type, rather than drop it', () => {
    const accept = () =>
      new GeminiAnswerAssembler('gemini-2.5-flash').accept(
        chunk('{"index":0,"content":{"parts":[{"text":"a"},{"inlineData":{"mimeType":"audio/L16;codec=pcm;rate=24000","data":"AAAA"}}]}}'),
      );
    expect(accept).toThrow(UnprocessableEntityError);
    expect(accept).toThrow('audio/L16;codec=pcm;rate=24000');
    expect(accept).toThrow(expect.objectContaining({ retryable: false }));
  });
});
