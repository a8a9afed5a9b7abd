import { describe, expect, it } from 'vitest';
import { Secret } from '../../config/secret.js';
import type { ChatRequest, ChatStreamEvent } from '../types.js';
import { createAnthropicProvider } from './anthropic/anthropic-provider.js';
import { cannedStreamServer } from './canned-stream-server.test-helpers.js';
import { createGeminiProvider } from './gemini/gemini-provider.js';

const request: ChatRequest = { model: '', messages: [{ role: 'user', content: 'Say hi' }] };
const signal = (): AbortSignal => new AbortController().signal;

async function collect(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('a stream’s start names the model the provider says is answering', () => {
  const upstream = cannedStreamServer();

  it('Anthropic: the model of message_start, as a stream cut short is priced by it', async () => {
    const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    upstream.answer(
      event('message_start', {
        type: 'message_start',
        message: {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5-20250929',
          content: [],
          stop_reason: null,
          usage: { input_tokens: 3, output_tokens: 1 },
        },
      }) +
        event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
        event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }) +
        event('content_block_stop', { type: 'content_block_stop', index: 0 }) +
        event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }) +
        event('message_stop', { type: 'message_stop' }),
    );
    const provider = createAnthropicProvider({
      apiKey: new Secret('ANTHROPIC_API_KEY', 'sk-ant-test'),
      model: 'claude-sonnet-4-5',
      baseUrl: upstream.baseUrl,
    });
    const events = await collect(provider.stream(request, signal()));
    expect(events[0]).toEqual({ type: 'start', id: 'msg_1', model: 'claude-sonnet-4-5-20250929' });
  });

  it('Gemini: the modelVersion of the first chunk', async () => {
    const chunk = {
      responseId: 'r1',
      modelVersion: 'gemini-2.5-flash',
      candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Hi' }] }, finishReason: 'STOP' }],
    };
    upstream.answer(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    const provider = createGeminiProvider({
      apiKey: new Secret('GEMINI_API_KEY', 'gm-test'),
      model: 'gemini-flash-latest',
      baseUrl: upstream.baseUrl,
    });
    const events = await collect(provider.stream(request, signal()));
    expect(events[0]).toEqual({ type: 'start', id: 'r1', model: 'gemini-2.5-flash' });
  });
});
