import OpenAI, { type APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { STACK_API_KEY } from '../service-stack.test-helpers.js';
import { responsesStacks, UPSTREAMS } from './responses-stacks.test-helpers.js';

/* What goes wrong with the Responses API, over HTTP through a real `serve`, with the official SDK. */

const start = responsesStacks();
const RETRYING = { LLM_MAX_ATTEMPTS: '2', LLM_RETRY_MIN_MS: '1', LLM_RETRY_MAX_MS: '2' };

describe.each(Object.keys(UPSTREAMS))('failures in front of %s', (upstream) => {
  it('retries a 429 and a 500 that come before the first byte', async () => {
    const { client, stack } = await start((fake) => ({ ...UPSTREAMS[upstream]!(fake), ...RETRYING }));
    stack.fake.enqueue({ type: 'error', status: 429 }, { type: 'answer', content: 'after a retry' });
    const { data, response } = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi', store: false }).withResponse();
    expect(data.output_text).toBe('after a retry');
    expect(response.headers.get('x-groundwork-attempts')).toBe('2');
    stack.fake.enqueue({ type: 'error', status: 500 }, { type: 'answer', content: 'streamed after a retry' });
    const final = await client.responses.stream({ model: 'gpt-4o-mini', input: 'Hi', store: false }).finalResponse();
    expect(final.output_text).toBe('streamed after a retry');
  });

  it('answers the upstream status when retries run out, telling the SDK not to retry', async () => {
    const { client, stack } = await start((fake) => ({ ...UPSTREAMS[upstream]!(fake), ...RETRYING }));
    stack.fake.enqueue({ type: 'error', status: 500 }, { type: 'error', status: 503 });
    const error = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi', store: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as APIError).status).toBe(502);
    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
  });

  it('ends a stream cut after its first byte with an error event, which the SDK raises', async () => {
    const { client, stack, checker } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'cut-stream', afterChunks: 5 });
    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Hi', store: false });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    await expect(stream.finalResponse()).rejects.toThrow(/connection|stream ended|complete/i);
    expect(deltas.length).toBeGreaterThan(0);
    await checker.problems();
    expect(checker.eventTypes.at(-1)).toBe('error');
  });

  it('refuses a wrong key with 401, before anything reaches the upstream', async () => {
    const { stack } = await start(UPSTREAMS[upstream]!);
    const stranger = new OpenAI({ apiKey: 'gw-wrong-key', baseURL: stack.baseUrl, maxRetries: 0 });
    await expect(stranger.responses.create({ model: 'gpt-4o-mini', input: 'Hi' })).rejects.toMatchObject({ status: 401 });
    expect(stack.fake.requests).toHaveLength(0);
  });

  it('refuses with 429 and Retry-After when Groundwork’s own request limit is spent', async () => {
    const { client, stack } = await start((fake) => ({
      ...UPSTREAMS[upstream]!(fake),
      LLM_REQUESTS_PER_MINUTE: '1',
      LLM_RATE_LIMIT_MAX_WAIT_MS: '0',
    }));
    await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi', store: false });
    const error = (await client.responses
      .create({ model: 'gpt-4o-mini', input: 'Hi', store: false })
      .catch((caught: unknown) => caught)) as APIError;
    expect(error.status).toBe(429);
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(stack.fake.requests).toHaveLength(1);
  });
});

describe('what only a Responses API upstream can do', () => {
  it('forwards built-in tools and fields Groundwork does not model, untouched, and retrieves the stored response', async () => {
    const { client, stack, upstreamResponsesBodies } = await start();
    stack.fake.enqueue({ type: 'answer', content: 'searched' });
    const created = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'News today?',
      tools: [{ type: 'web_search' }],
      include: ['web_search_call.action.sources'],
      prompt_cache_key: 'news',
    });
    expect(upstreamResponsesBodies()[0]).toEqual({
      model: 'gpt-4o-mini',
      input: 'News today?',
      tools: [{ type: 'web_search' }],
      include: ['web_search_call.action.sources'],
      prompt_cache_key: 'news',
    });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved).toMatchObject({ id: created.id, status: 'completed' });
    expect(retrieved.output_text).toBe('searched');
    const missing = await client.responses.retrieve('resp_unknown').catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as APIError).code).toBe('response_not_found');
  });

  it('records each forwarded call in the ledger with operation = responses, its usage and cost', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'answer', content: 'counted', usage: { promptTokens: 100, completionTokens: 20 } });
    await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi', store: false });
    stack.fake.enqueue({ type: 'answer', content: 'counted too', usage: { promptTokens: 50, completionTokens: 10 } });
    await client.responses.stream({ model: 'gpt-4o-mini', input: 'Hi', store: false }).finalResponse();
    await stack.infrastructure.llm.flush();
    const rows = await stack.infrastructure.db.selectFrom('llm_usage').selectAll().orderBy('id').execute();
    expect(rows.map((row) => [row.operation, row.outcome, row.prompt_tokens, row.completion_tokens])).toEqual([
      ['responses', 'success', 100, 20],
      ['responses', 'success', 50, 10],
    ]);
    expect(Number(rows[0]?.cost_usd)).toBeGreaterThan(0);
  });
});

describe.each(['anthropic', 'openai-compatible'])('what cannot be translated for %s', (upstream) => {
  it('refuses built-in tools, previous_response_id and background mode with one 400 naming each', async () => {
    const { client, stack } = await start(UPSTREAMS[upstream]!);
    const error = (await client.responses
      .create({ model: 'gpt-4o-mini', input: 'Hi', tools: [{ type: 'web_search' }], previous_response_id: 'resp_1', background: true })
      .catch((caught: unknown) => caught)) as APIError;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe('previous_response_id');
    for (const field of ['tools[0]', 'previous_response_id', 'background', 'web_search']) expect(error.message).toContain(field);
    expect(stack.fake.requests).toHaveLength(0);
  });

  it('says retrieval is not possible: translated responses are not stored', async () => {
    const { client } = await start(UPSTREAMS[upstream]!);
    const error = (await client.responses.retrieve('resp_anything').catch((caught: unknown) => caught)) as APIError;
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe('response_not_stored');
    expect(error.message).toContain('not stored');
  });

  it('refuses store: true, which it cannot honour', async () => {
    const { client } = await start(UPSTREAMS[upstream]!);
    await expect(client.responses.create({ model: 'gpt-4o-mini', input: 'Hi', store: true })).rejects.toMatchObject({
      status: 400,
      param: 'store',
    });
  });
});

it('answers 400 naming the field for a body without a model', async () => {
  const { stack } = await start();
  const response = await fetch(`${stack.baseUrl}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${STACK_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: 'Hi' }),
  });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: { param: 'model', type: 'invalid_request_error' } });
});
