import { describe, expect, it } from 'vitest';
import { Secret } from '../../../config/secret.js';
import { rejection } from '../../llm.test-helpers.js';
import type { ChatRequest, ChatStreamEvent } from '../../types.js';
import { cannedStreamServer } from '../canned-stream-server.test-helpers.js';
import { createGeminiProvider } from './gemini-provider.js';

const request: ChatRequest = { model: '', messages: [{ role: 'user', content: 'Name a colour' }], n: 2 };
const signal = (): AbortSignal => new AbortController().signal;
const chunk = (candidates: unknown[]): string =>
  `data: ${JSON.stringify({ candidates, modelVersion: 'gemini-2.5-flash', responseId: 'r1' })}\r\n\r\n`;
const candidate = (index: number, text: string, finishReason?: string) => ({
  index,
  content: { role: 'model', parts: [{ text }] },
  ...(finishReason === undefined ? {} : { finishReason }),
});

describe('a Gemini stream of several candidates', () => {
  const upstream = cannedStreamServer();
  const provider = () =>
    createGeminiProvider({ apiKey: new Secret('GEMINI_API_KEY', 'gm-test'), model: 'gemini-2.5-flash', baseUrl: upstream.baseUrl });
  const collect = async (): Promise<ChatStreamEvent[]> => {
    const events: ChatStreamEvent[] = [];
    for await (const event of provider().stream(request, signal())) events.push(event);
    return events;
  };

  it('is cut short when it ends before every candidate has finished, not answered with half a choice', async () => {
    upstream.answer(chunk([candidate(0, 'Red'), candidate(1, 'Gr')]) + chunk([candidate(0, '.', 'STOP')]));
    const error = await rejection(collect());
    expect(error).toMatchObject({ name: 'ProviderConnectionError', retryable: true });
  });

  it('is whole when every candidate has finished', async () => {
    upstream.answer(chunk([candidate(0, 'Red'), candidate(1, 'Gr')]) + chunk([candidate(0, '.', 'STOP'), candidate(1, 'een.', 'STOP')]));
    const done = (await collect()).at(-1);
    expect(done?.type === 'done' ? done.completion.choices.map((choice) => [choice.message.content, choice.finishReason]) : done).toEqual([
      ['Red.', 'stop'],
      ['Green.', 'stop'],
    ]);
  });
});
