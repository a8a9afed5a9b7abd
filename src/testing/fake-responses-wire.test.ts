import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../test/openai-spec.js';
import type { FakeAnswer } from './fake-behaviour.js';
import { FakeProviderServer } from './fake-provider-server.js';

/* The fake server's Responses API, driven by the official SDK and checked against OpenAI's spec. */

const ANSWERS: Array<[string, FakeAnswer]> = [
  ['text', { type: 'answer', content: 'Hello there' }],
  [
    'tool calls',
    {
      type: 'answer',
      toolCalls: [
        { name: 'weather', arguments: { city: 'Paris' } },
        { name: 'time', arguments: {} },
      ],
    },
  ],
  ['a refusal', { type: 'answer', refusal: 'I can’t help with that.' }],
  ['a cut at the token limit', { type: 'answer', content: 'cut', finishReason: 'length' }],
];

describe('the fake server’s Responses API', () => {
  let fake: FakeProviderServer;
  let client: OpenAI;

  beforeAll(async () => {
    validateOpenAiSchema('Response', {});
    validateOpenAiSchema('ResponseStreamEvent', {});
    fake = await new FakeProviderServer().start();
    client = new OpenAI({ apiKey: 'test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await fake.close();
  });

  it.each(ANSWERS)('answers %s as a Response and as events, both valid', async (_name, answer) => {
    fake.enqueue(answer, answer);
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(validateOpenAiSchema('Response', response)).toEqual([]);
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    let last: { type: string; response?: unknown } | undefined;
    for await (const event of stream) {
      expect(validateOpenAiSchema('ResponseStreamEvent', event)).toEqual([]);
      last = event;
    }
    expect(last?.type).toBe(answer.finishReason === 'length' ? 'response.incomplete' : 'response.completed');
    const { output } = last!.response as { output: Array<{ id?: string }> };
    const withoutIds = (items: Array<{ id?: string }>) => items.map(({ id: _id, ...item }) => item);
    expect(withoutIds(output)).toEqual(withoutIds(response.output));
  });

  it('keeps responses for GET /v1/responses/{id}, except those sent with store: false, and answers 404 otherwise', async () => {
    const kept = await client.responses.create({ model: 'gpt-4o-mini', input: 'keep me' });
    expect(await client.responses.retrieve(kept.id)).toMatchObject({ id: kept.id, output: kept.output });
    const unkept = await client.responses.create({ model: 'gpt-4o-mini', input: 'forget me', store: false });
    await expect(client.responses.retrieve(unkept.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('injects faults on demand, as for chat', async () => {
    fake.enqueue({ type: 'error', status: 429, retryAfter: 2 });
    await expect(client.responses.create({ model: 'gpt-4o-mini', input: 'hi' })).rejects.toMatchObject({ status: 429 });
    fake.enqueue({ type: 'cut-stream', afterChunks: 3 });
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).not.toContain('response.completed');
    expect(types.length).toBe(5);
  });

  it('answers Azure’s v1 path, /openai/v1/responses', async () => {
    const azure = new OpenAI({ apiKey: 'test', baseURL: `${fake.azureEndpoint}/openai/v1`, maxRetries: 0 });
    fake.enqueue({ type: 'answer', content: 'from Azure' });
    const response = await azure.responses.create({ model: 'my-deployment', input: 'hi' });
    expect(response.output_text).toBe('from Azure');
    expect(fake.requests.at(-1)).toMatchObject({ wire: 'azure', path: '/openai/v1/responses' });
  });
});
