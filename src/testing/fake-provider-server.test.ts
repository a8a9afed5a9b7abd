import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeEach(async () => {
  fake = await new FakeProviderServer().start();
});
afterEach(async () => {
  await fake.close();
});

const openai = (): OpenAI => new OpenAI({ apiKey: 'sk-test-key-000000000000', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
const anthropic = (): Anthropic => new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.anthropicBaseUrl, maxRetries: 0 });

describe('FakeProviderServer with the OpenAI SDK', () => {
  it('answers a chat completion and records the request with its key redacted', async () => {
    fake.enqueue({ type: 'answer', content: 'Hallo', usage: { promptTokens: 12, completionTokens: 3, cachedPromptTokens: 4 } });
    const completion = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    expect(completion.choices[0]?.message.content).toBe('Hallo');
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(4);
    expect(fake.requests[0]).toMatchObject({ wire: 'openai', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini' } });
    expect(fake.requests[0]?.headers['authorization']).toBe('[redacted]');
  });

  it('streams deltas and a usage chunk', async () => {
    fake.enqueue({ type: 'answer', content: 'one two three', chunks: 3 });
    const stream = await openai().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three');
    expect(usage).toMatchObject({ completion_tokens: 4 });
  });

  it('fails with the scripted status, Retry-After and error body', async () => {
    fake.enqueue({ type: 'error', status: 429, retryAfter: 2, code: 'rate_limit_exceeded' });
    const error = await openai()
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('2');
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('rate_limit_exceeded');
  });

  it('records the id and creation time of the answers it gives, and none for the requests it fails', async () => {
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hi' }] };
    fake.enqueue({ type: 'error', status: 500 }, { type: 'answer', created: 1_700_000_000 });
    await expect(openai().chat.completions.create(chat)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const answer = await openai().chat.completions.create(chat);
    expect(fake.requests[0]).not.toHaveProperty('answerId');
    expect(fake.requests[0]).not.toHaveProperty('answerCreated');
    expect(fake.requests[1]).toMatchObject({ answerId: answer.id, answerCreated: 1_700_000_000 });
    expect(answer.created).toBe(1_700_000_000);
  });

  it('resets the connection', async () => {
    fake.enqueue({ type: 'reset' });
    await expect(openai().chat.completions.create({ model: 'm', messages: [] })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('lists models and enforces keys when asked', async () => {
    const strict = await new FakeProviderServer({ apiKeys: ['right-key'], models: ['a', 'b'] }).start();
    try {
      const client = new OpenAI({ apiKey: 'right-key', baseURL: strict.openaiBaseUrl, maxRetries: 0 });
      const page = await client.models.list();
      expect(page.data.map((model) => model.id)).toEqual(['a', 'b']);
      const wrong = new OpenAI({ apiKey: 'wrong-key', baseURL: strict.openaiBaseUrl, maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    } finally {
      await strict.close();
    }
  });
});

describe('FakeProviderServer with the Azure client', () => {
  it('serves the deployment path with api-version', async () => {
    const client = new AzureOpenAI({
      apiKey: 'azure-key',
      endpoint: fake.azureEndpoint,
      apiVersion: '2024-10-21',
      deployment: 'prod',
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'Hi' }] });
    expect(completion.choices[0]?.message.content).toBe('ok');
    expect(fake.requests[0]).toMatchObject({ wire: 'azure', deployment: 'prod', query: { 'api-version': '2024-10-21' } });
    expect(fake.requests[0]?.headers['api-key']).toBe('[redacted]');
  });
});

describe('FakeProviderServer with the Anthropic SDK', () => {
  it('answers with text and with a forced tool use', async () => {
    fake.enqueue({ type: 'answer', content: 'Hallo' }, { type: 'answer', json: { word: 'hallo' } });
    const text = await anthropic().messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] });
    expect(text.content[0]).toMatchObject({ type: 'text', text: 'Hallo' });
    const tool = await anthropic().messages.create({
      model: 'claude',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [{ name: 'answer', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'answer' },
    });
    expect(tool.content[0]).toMatchObject({ type: 'tool_use', name: 'answer', input: { word: 'hallo' } });
    expect(tool.stop_reason).toBe('tool_use');
  });

  it('streams message events', async () => {
    fake.enqueue({ type: 'answer', content: 'one two three' });
    const stream = await anthropic().messages.create({
      model: 'claude',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const event of stream)
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    expect(text).toBe('one two three');
  });

  it('returns errors in Anthropic format with a request id', async () => {
    fake.enqueue({ type: 'error', status: 529, retryAfterMs: 1500 });
    const error = await anthropic()
      .messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).requestID).toBe('req_fake_1');
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'overloaded_error' } });
  });
});

describe('FakeProviderServer lifecycle', () => {
  it('closes while a request hangs, leaving no socket open', async () => {
    fake.enqueue({ type: 'hang' });
    const pending = openai()
      .chat.completions.create({ model: 'm', messages: [] })
      .catch((caught: unknown) => caught);
    await fake.waitForRequests(1);
    await fake.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});
