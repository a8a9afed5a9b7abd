import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
    validateOpenAiSchema('ResponseItemList', {});
    fake = await new FakeProviderServer().start();
    client = new OpenAI({ apiKey: 'test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await fake.close();
  });

  afterEach(() => {
    fake.reset();
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

  it('makes a background response queued, in progress on the first read, completed on the next', async () => {
    const queued = await client.responses.create({ model: 'gpt-4o-mini', input: 'later', background: true });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [] });
    expect(validateOpenAiSchema('Response', queued)).toEqual([]);
    expect(await client.responses.retrieve(queued.id)).toMatchObject({ status: 'in_progress', output: [] });
    const done = await client.responses.retrieve(queued.id);
    expect(done).toMatchObject({ status: 'completed', background: true, output_text: 'ok' });
    expect(validateOpenAiSchema('Response', done)).toEqual([]);
  });

  it('refuses a background response that is not to be stored, as OpenAI does', async () => {
    const refused = await client.responses
      .create({ model: 'gpt-4o-mini', input: 'later', background: true, store: false })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('Background mode requires store=true.');
    expect(fake.requests.map((request) => request.answerId)).toEqual([undefined]);
  });

  it('completes a background response only on demand when manual', async () => {
    fake.responses.settings.manual = true;
    const queued = await client.responses.create({ model: 'gpt-4o-mini', input: 'later', background: true });
    for (let read = 0; read < 3; read++) expect((await client.responses.retrieve(queued.id)).status).toBe('in_progress');
    fake.responses.complete(queued.id);
    expect((await client.responses.retrieve(queued.id)).status).toBe('completed');
  });

  it('cancels a background response for good, again idempotently, and refuses to cancel one made in the foreground or ended', async () => {
    const queued = await client.responses.create({ model: 'gpt-4o-mini', input: 'later', background: true });
    const cancelled = await client.responses.cancel(queued.id);
    expect(cancelled).toMatchObject({ id: queued.id, status: 'cancelled', output: [] });
    expect(validateOpenAiSchema('Response', cancelled)).toEqual([]);
    expect((await client.responses.cancel(queued.id)).status).toBe('cancelled');
    expect((await client.responses.retrieve(queued.id)).status).toBe('cancelled');
    const foreground = await client.responses.create({ model: 'gpt-4o-mini', input: 'now' });
    const refused = await client.responses.cancel(foreground.id).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({
      status: 400,
      error: { message: 'Cannot cancel a synchronous response.', type: 'invalid_request_error' },
    });
    const ended = await client.responses.create({ model: 'gpt-4o-mini', input: 'later', background: true });
    fake.responses.complete();
    await expect(client.responses.cancel(ended.id)).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('already completed'),
    });
    await expect(client.responses.cancel('resp_unknown')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('deletes a response, after which it is a 404 everywhere', async () => {
    const kept = await client.responses.create({ model: 'gpt-4o-mini', input: 'delete me' });
    const answer = await fetch(`${fake.openaiBaseUrl}/responses/${kept.id}`, { method: 'DELETE' });
    expect([answer.status, await answer.json()]).toEqual([200, { id: kept.id, object: 'response', deleted: true }]);
    await expect(client.responses.retrieve(kept.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.delete(kept.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.inputItems.list(kept.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('lists the input as items, newest first by default, a page at a time', async () => {
    const input = [
      { role: 'developer' as const, content: 'be brief' },
      { role: 'user' as const, content: 'one' },
      { role: 'assistant' as const, content: 'two' },
      { role: 'user' as const, content: [{ type: 'input_text' as const, text: 'three' }] },
      { type: 'function_call_output' as const, call_id: 'call_1', output: 'four' },
    ];
    const made = await client.responses.create({ model: 'gpt-4o-mini', input });
    const all = await client.responses.inputItems.list(made.id, { order: 'asc' });
    expect(validateOpenAiSchema('ResponseItemList', await rawList(made.id, 'order=asc'))).toEqual([]);
    expect(all.data.map((item) => item.type)).toEqual(['message', 'message', 'message', 'message', 'function_call_output']);
    expect(all.data[1]).toMatchObject({ role: 'user', content: [{ type: 'input_text', text: 'one' }] });
    const newest = await client.responses.inputItems.list(made.id, { limit: 2 });
    expect(newest.data.map((item) => item.id)).toEqual([all.data[4]!.id, all.data[3]!.id]);
    expect(newest.has_more).toBe(true);
    const seen: string[] = [];
    for await (const item of client.responses.inputItems.list(made.id, { limit: 2 })) seen.push(item.id);
    expect(seen).toEqual(all.data.map((item) => item.id).reverse());
    const before = await rawList(made.id, `order=asc&before=${all.data[2]!.id}&limit=1`);
    expect(before).toMatchObject({ data: [{ id: all.data[1]!.id }], has_more: true });
    const text = await client.responses.create({ model: 'gpt-4o-mini', input: 'just text' });
    const single = await client.responses.inputItems.list(text.id);
    expect(single.data).toEqual([
      { id: expect.any(String), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'just text' }] },
    ]);
    await expect(client.responses.inputItems.list(made.id, { limit: 101 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.responses.inputItems.list(made.id, { after: 'msg_nowhere' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('fails the stored-response routes from the same queue, on OpenAI’s and Azure’s paths', async () => {
    const azure = new OpenAI({ apiKey: 'test', baseURL: `${fake.azureEndpoint}/openai/v1`, maxRetries: 0 });
    const queued = await azure.responses.create({ model: 'my-deployment', input: 'later', background: true });
    fake.enqueue({ type: 'error', status: 503 }, { type: 'error', status: 500 }, { type: 'error', status: 429 });
    await expect(azure.responses.cancel(queued.id)).rejects.toMatchObject({ status: 503 });
    await expect(client.responses.delete(queued.id)).rejects.toMatchObject({ status: 500 });
    await expect(azure.responses.inputItems.list(queued.id)).rejects.toMatchObject({ status: 429 });
    expect((await azure.responses.cancel(queued.id)).status).toBe('cancelled');
    expect((await azure.responses.inputItems.list(queued.id)).data).toHaveLength(1);
    await azure.responses.delete(queued.id);
    expect(fake.requests.slice(-3).map(({ wire, method, path }) => `${wire} ${method} ${path}`)).toEqual([
      `azure POST /openai/v1/responses/${queued.id}/cancel`,
      `azure GET /openai/v1/responses/${queued.id}/input_items`,
      `azure DELETE /openai/v1/responses/${queued.id}`,
    ]);
  });

  /** The list exactly as the fake sends it, for schema checks (the SDK's page object adds its own fields). */
  async function rawList(id: string, query: string): Promise<unknown> {
    return (await fetch(`${fake.openaiBaseUrl}/responses/${id}/input_items?${query}`)).json();
  }
});
