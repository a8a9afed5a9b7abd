import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';
import { toolResultsOf } from './fake-tool-results.js';

let fake: FakeProviderServer;
beforeEach(async () => {
  fake = await new FakeProviderServer().start();
});
afterEach(async () => {
  await fake.close();
});

const openai = (): OpenAI => new OpenAI({ apiKey: 'sk-test-key-000000000000', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
const anthropic = (): Anthropic => new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.anthropicBaseUrl, maxRetries: 0 });
const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];

async function chunksOf(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const all: ChatCompletionChunk[] = [];
  for await (const chunk of stream) all.push(chunk);
  return all;
}

describe('FakeProviderServer tools, refusals and choices on OpenAI’s wire', () => {
  it('answers tool calls, with ids generated or given', async () => {
    fake.enqueue({
      type: 'answer',
      toolCalls: [
        { name: 'weather', arguments: { city: 'Paris' } },
        { name: 'time', arguments: '{}', id: 'call_given' },
      ],
    });
    const completion = await openai().chat.completions.create({ model: 'm', messages });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      { id: 'call_fake_0_0', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_given', type: 'function', function: { name: 'time', arguments: '{}' } },
    ]);
  });

  it('streams a tool call as OpenAI does: id, name and empty arguments first, then pieces; usage only last', async () => {
    fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }], chunks: 3 });
    const chunks = await chunksOf(
      await openai().chat.completions.create({ model: 'm', messages, stream: true, stream_options: { include_usage: true } }),
    );
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: 'call_fake_0_0', type: 'function', function: { name: 'weather', arguments: '' } });
    expect(calls.slice(1).every((call) => call.id === undefined && call.function?.name === undefined)).toBe(true);
    expect(calls.length).toBe(4);
    expect(calls.map((call) => call.function?.arguments).join('')).toBe('{"city":"Paris"}');
    expect(chunks.filter((chunk) => chunk.usage)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('refuses in message.refusal, and streams the refusal as refusal deltas', async () => {
    fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.' }, { type: 'answer', refusal: 'I can’t help with that.' });
    const completion = await openai().chat.completions.create({ model: 'm', messages });
    expect(completion.choices[0]?.message).toMatchObject({ content: null, refusal: 'I can’t help with that.' });
    const chunks = await chunksOf(await openai().chat.completions.create({ model: 'm', messages, stream: true }));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.refusal ?? '').join('')).toBe('I can’t help with that.');
  });

  it('answers n copies, log probabilities, fingerprint, service tier and rate-limit headers', async () => {
    fake.enqueue({
      type: 'answer',
      content: 'two words',
      logprobs: true,
      systemFingerprint: 'fp_1',
      serviceTier: 'default',
      rateLimitHeaders: { 'x-ratelimit-remaining-requests': '9' },
    });
    const { data, response } = await openai()
      .chat.completions.create({ model: 'm', messages, n: 2, logprobs: true, top_logprobs: 3 })
      .withResponse();
    expect(data.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(data).toMatchObject({ system_fingerprint: 'fp_1', service_tier: 'default' });
    expect(data.choices[1]?.logprobs?.content?.map((token) => token.token)).toEqual(['two ', 'words']);
    expect(data.choices[1]?.logprobs?.content?.[0]?.top_logprobs).toHaveLength(3);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('9');
  });

  it('lets a handler answer a tool-result turn with text', async () => {
    fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: `Result was ${toolResultsOf(request)[0]?.content}` }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: {} }] },
    );
    const first = await openai().chat.completions.create({ model: 'm', messages });
    const call = first.choices[0]?.message.tool_calls?.[0];
    const second = await openai().chat.completions.create({
      model: 'm',
      messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call?.id ?? '', content: '21 °C' }],
    });
    expect(second.choices[0]?.message.content).toBe('Result was 21 °C');
    expect(toolResultsOf(fake.requests[1]!)).toEqual([{ toolCallId: 'call_fake_0_0', content: '21 °C', isError: false }]);
  });
});

describe('FakeProviderServer tools and refusals on Anthropic’s wire', () => {
  it('answers tool_use blocks with stop_reason tool_use, and cache writes in usage', async () => {
    fake.enqueue({
      type: 'answer',
      content: 'Checking.',
      toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }],
      usage: { promptTokens: 50, cachedPromptTokens: 10, cacheWritePromptTokens: 5 },
    });
    const message = await anthropic().messages.create({ model: 'claude', max_tokens: 100, messages });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_fake_0_0', name: 'weather', input: { city: 'Paris' } },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 35, cache_read_input_tokens: 10, cache_creation_input_tokens: 5 });
  });

  it('streams tool input as input_json_delta pieces', async () => {
    fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }], chunks: 3 });
    const stream = await anthropic().messages.create({ model: 'claude', max_tokens: 100, messages, stream: true });
    const pieces: string[] = [];
    let stop: string | null | undefined;
    for await (const event of stream) {
      if (event.type === 'content_block_start') expect(event.content_block).toMatchObject({ type: 'tool_use', name: 'weather' });
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') pieces.push(event.delta.partial_json);
      if (event.type === 'message_delta') stop = event.delta.stop_reason;
    }
    expect(pieces.length).toBe(3);
    expect(pieces.join('')).toBe('{"city":"Paris"}');
    expect(stop).toBe('tool_use');
  });

  it('refuses with stop_reason refusal and the text', async () => {
    fake.enqueue({ type: 'answer', refusal: 'I won’t.' });
    const message = await anthropic().messages.create({ model: 'claude', max_tokens: 100, messages });
    expect(message).toMatchObject({ stop_reason: 'refusal', content: [{ type: 'text', text: 'I won’t.' }] });
  });

  it('reads tool results, errors marked, from the last user turn', async () => {
    await anthropic().messages.create({
      model: 'claude',
      max_tokens: 100,
      messages: [
        ...messages,
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'no data', is_error: true }] },
      ],
    });
    expect(toolResultsOf(fake.requests[0]!)).toEqual([{ toolCallId: 'toolu_1', content: 'no data', isError: true }]);
  });
});

describe('FakeProviderServer log probabilities', () => {
  it('answers them when the request asks, unless the script says otherwise', async () => {
    fake.enqueue({ type: 'answer', content: 'a b' }, { type: 'answer', content: 'a b', logprobs: false });
    const asked = await openai().chat.completions.create({ model: 'm', messages, logprobs: true });
    const refused = await openai().chat.completions.create({ model: 'm', messages, logprobs: true });
    const unasked = await openai().chat.completions.create({ model: 'm', messages });
    expect(asked.choices[0]?.logprobs?.content?.map((token) => token.token)).toEqual(['a ', 'b']);
    expect(refused.choices[0]?.logprobs).toBeNull();
    expect(unasked.choices[0]?.logprobs).toBeNull();
  });
});
