import { describe, expect, it } from 'vitest';
import { Secret } from '../../config/secret.js';
import { rejection } from '../llm.test-helpers.js';
import type { ChatRequest } from '../types.js';
import { createAnthropicProvider } from './anthropic/anthropic-provider.js';
import { cannedStreamServer } from './canned-stream-server.test-helpers.js';
import { createOpenAiProvider } from './openai/openai-provider.js';
import { createOpenAiCompatibleProvider } from './openai-compatible/openai-compatible-provider.js';

const request: ChatRequest = { model: '', messages: [{ role: 'user', content: 'Say hi' }] };
const signal = (): AbortSignal => new AbortController().signal;

describe('an error reported inside a stream, after its 200', () => {
  const upstream = cannedStreamServer();

  const drain = async (stream: AsyncIterable<unknown>): Promise<void> => {
    for await (const _event of stream);
  };
  const anthropic = () =>
    createAnthropicProvider({
      apiKey: new Secret('ANTHROPIC_API_KEY', 'sk-ant-test'),
      model: 'claude-sonnet-4-5',
      baseUrl: upstream.baseUrl,
    });
  const anthropicError = (type: string) =>
    `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}\n\n` +
    `event: error\ndata: {"type":"error","error":{"type":"${type}","message":"said ${type}"}}\n\n`;

  it('Anthropic: a rate_limit_error is a rate limit, retried without counting against the provider’s health', async () => {
    upstream.answer(anthropicError('rate_limit_error'));
    const error = await rejection(drain(anthropic().stream(request, signal())));
    expect(error).toMatchObject({ kind: 'rate_limited', retryable: true, countsAgainstProviderHealth: false });
    expect(error.message).toContain('said rate_limit_error');
  });

  it('Anthropic: an invalid_request_error is a bad request, not retried', async () => {
    upstream.answer(anthropicError('invalid_request_error'));
    expect(await rejection(drain(anthropic().stream(request, signal())))).toMatchObject({ kind: 'bad_request', retryable: false });
  });

  it('Anthropic: an overloaded_error stays a retryable server error', async () => {
    upstream.answer(anthropicError('overloaded_error'));
    expect(await rejection(drain(anthropic().stream(request, signal())))).toMatchObject({ kind: 'server_error', retryable: true });
  });

  it('OpenAI: a context_length_exceeded error is a bad request, not retried', async () => {
    upstream.answer('data: {"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}\n\n');
    const provider = createOpenAiProvider({
      apiKey: new Secret('OPENAI_API_KEY', 'sk-test'),
      model: 'gpt-4o-mini',
      baseUrl: `${upstream.baseUrl}/v1`,
    });
    expect(await rejection(drain(provider.stream(request, signal())))).toMatchObject({ kind: 'bad_request', retryable: false });
  });

  it('OpenAI: a rate_limit_exceeded error is a rate limit', async () => {
    upstream.answer('data: {"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}\n\n');
    const provider = createOpenAiProvider({
      apiKey: new Secret('OPENAI_API_KEY', 'sk-test'),
      model: 'gpt-4o-mini',
      baseUrl: `${upstream.baseUrl}/v1`,
    });
    expect(await rejection(drain(provider.stream(request, signal())))).toMatchObject({ kind: 'rate_limited', retryable: true });
  });

  it('OpenAI-compatible: an error event with a numeric code is classified by that status', async () => {
    upstream.answer(
      'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n' +
        'data: {"error":{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}}\n\n',
    );
    const provider = createOpenAiCompatibleProvider({ model: 'qwen', baseUrl: `${upstream.baseUrl}/v1` });
    const error = await rejection(drain(provider.stream(request, signal())));
    expect(error).toMatchObject({ kind: 'bad_request', status: 400, retryable: false });
    expect(error.message).toContain('max_tokens is too large');
  });
});
