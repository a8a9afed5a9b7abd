import { afterEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import { type Logger, silentLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import { ResponseNotFoundError } from './response-not-found-error.js';
import { ResponsesCacheUnsupportedError } from './responses-cache-unsupported-error.js';
import type { ResponseStreamEvent, ResponsesResult } from './responses-types.js';

/* `infra.llm.respond` in process, against the fake provider over HTTP: forwarded to Azure OpenAI, translated for Anthropic. */

let fake: FakeProviderServer | undefined;
let infra: Infrastructure | undefined;
/** A second upstream, for a fallback. */
let second: FakeProviderServer | undefined;

afterEach(async () => {
  await infra?.close();
  await fake?.close();
  await second?.close();
  infra = undefined;
  fake = undefined;
  second = undefined;
});

async function start(
  env: (fake: FakeProviderServer) => Record<string, string>,
  logger: Logger = silentLogger(),
): Promise<{ fake: FakeProviderServer; infra: Infrastructure }> {
  fake = await startFakeProviderServer({ keepAuthHeaders: true });
  infra = await createInfrastructure({
    env: { NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', LLM_MAX_ATTEMPTS: '1', ...env(fake) },
    envFile: false,
    logger,
  });
  await infra.initDb();
  return { fake, infra };
}

async function eventsOf(result: ResponsesResult): Promise<ResponseStreamEvent[]> {
  if (!result.stream) throw new Error('expected a stream');
  const events: ResponseStreamEvent[] = [];
  for await (const event of result.events) events.push(event);
  return events;
}

describe('respond', () => {
  it('forwards to Azure OpenAI’s v1 Responses API with the deployment as the model, and retrieves by id', async () => {
    const { fake, infra } = await start((server) => ({
      LLM_PROVIDER: 'azure',
      AZURE_OPENAI_ENDPOINT: server.azureEndpoint,
      AZURE_OPENAI_API_KEY: 'azure-upstream-key',
      AZURE_OPENAI_DEPLOYMENT: 'my-deployment',
    }));
    fake.enqueue({ type: 'answer', content: 'from Azure' });
    const result = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' });
    expect(result).toMatchObject({ stream: false, mode: 'forwarded', attempts: 1 });
    const request = fake.requests[0]!;
    expect(request.path).toBe('/openai/v1/responses');
    expect(request.headers['api-key']).toBe('azure-upstream-key');
    expect(request.body).toEqual({ model: 'my-deployment', input: 'hi' });
    const id = result.stream ? '' : result.response.id;
    expect(await infra.llm.retrieveResponse(id)).toMatchObject({ id, status: 'completed' });
  });

  it('refuses to cache a forwarded call it cannot cache, naming the option, before sending; bypassing it is honoured', async () => {
    const { fake, infra } = await start((server) => ({
      OPENAI_API_KEY: 'sk-upstream',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      LLM_CACHE: 'memory',
    }));
    for (const cache of [true, 'use', 'refresh'] as const) {
      const refused = await infra.llm
        .respond({ model: 'gpt-4o-mini', input: 'hi', temperature: 0 }, { cache })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ResponsesCacheUnsupportedError);
      expect(refused).toMatchObject({ code: 'llm_unsupported_params', param: 'cache' });
    }
    expect(fake.requests).toHaveLength(0);
    for (const cache of [false, 'bypass'] as const) {
      fake.enqueue({ type: 'answer', content: 'not cached' });
      expect(await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' }, { cache })).toMatchObject({ mode: 'forwarded', cached: false });
    }
    expect(fake.requests).toHaveLength(2);
  });

  it('retrieves by id a response an Azure fallback made, and names both upstreams for an id neither has', async () => {
    const azure = await startFakeProviderServer({ apiKeys: ['azure-fallback-key'] });
    second = azure;
    const { fake, infra } = await start((server) => ({
      OPENAI_API_KEY: 'sk-key',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      LLM_FALLBACKS: 'azure:fallback-deploy',
      AZURE_OPENAI_ENDPOINT: azure.azureEndpoint,
      AZURE_OPENAI_API_KEY: 'azure-fallback-key',
      AZURE_OPENAI_DEPLOYMENT: 'fallback-deploy',
    }));
    fake.enqueue({ type: 'error', status: 500 });
    azure.enqueue({ type: 'answer', content: 'from the fallback' });
    const result = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' });
    const id = result.stream ? '' : result.response.id;
    expect(await infra.llm.retrieveResponse(id)).toMatchObject({ id, status: 'completed' });
    const missing = await infra.llm.retrieveResponse('resp_nowhere').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ResponseNotFoundError);
    expect(missing).toMatchObject({ code: 'provider_not_found', responseId: 'resp_nowhere', asked: ['openai', 'azure'] });
    expect((missing as Error).message).toContain('No response with id "resp_nowhere" at openai, azure (each asked)');
  });

  it('keeps a continuation on the primary’s upstream: its retryable failure is not sent on to a fallback on another account', async () => {
    const azure = await startFakeProviderServer({ apiKeys: ['azure-fallback-key'] });
    second = azure;
    const { fake, infra } = await start((server) => ({
      OPENAI_API_KEY: 'sk-key',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      LLM_FALLBACKS: 'azure:fallback-deploy',
      AZURE_OPENAI_ENDPOINT: azure.azureEndpoint,
      AZURE_OPENAI_API_KEY: 'azure-fallback-key',
      AZURE_OPENAI_DEPLOYMENT: 'fallback-deploy',
    }));
    const continuations = [{ previous_response_id: 'resp_earlier' }, { conversation: 'conv_earlier', stream: true }];
    for (const continuation of continuations) {
      fake.enqueue({ type: 'error', status: 503 });
      const error = await infra.llm
        .respond({ model: 'gpt-4o-mini', input: 'and then?', ...continuation })
        .catch((caught: unknown) => caught);
      expect(error, JSON.stringify(continuation)).toMatchObject({ status: 503, retryable: true, provider: 'openai' });
    }
    expect(fake.requests).toHaveLength(2);
    expect(azure.requests).toHaveLength(0);
    // A call that continues nothing still falls back.
    fake.enqueue({ type: 'error', status: 503 });
    azure.enqueue({ type: 'answer', content: 'from the fallback' });
    expect(await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' })).toMatchObject({ stream: false, attempts: 2 });
    expect(azure.requests).toHaveLength(1);
  });

  it('sends a continuation of a response a fallback made to that fallback, which holds it, whole and streamed', async () => {
    const azure = await startFakeProviderServer({ apiKeys: ['azure-fallback-key'], responseIdPrefix: 'resp_azure_' });
    second = azure;
    const { fake, infra } = await start((server) => ({
      OPENAI_API_KEY: 'sk-key',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      LLM_FALLBACKS: 'azure:fallback-deploy',
      AZURE_OPENAI_ENDPOINT: azure.azureEndpoint,
      AZURE_OPENAI_API_KEY: 'azure-fallback-key',
      AZURE_OPENAI_DEPLOYMENT: 'fallback-deploy',
    }));
    fake.enqueue({ type: 'error', status: 503 });
    const first = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'Hi' });
    if (first.stream) throw new Error('expected a whole response');
    expect(first.response.id).toMatch(/^resp_azure_/);
    const whole = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'and then?', previous_response_id: first.response.id });
    expect(whole).toMatchObject({ stream: false, attempts: 1 });
    const streamed = await infra.llm.respond({
      model: 'gpt-4o-mini',
      input: 'and then?',
      previous_response_id: first.response.id,
      stream: true,
    });
    expect((await eventsOf(streamed)).at(-1)?.type).toBe('response.completed');
    expect(fake.requests).toHaveLength(1);
    expect(azure.requests.map((request) => (request.body as { previous_response_id?: unknown }).previous_response_id)).toEqual([
      undefined,
      first.response.id,
      first.response.id,
    ]);
    expect(azure.requests.map((request) => (request.body as { model?: unknown }).model)).toEqual(Array(3).fill('fallback-deploy'));
  });

  it('lets a continuation fall back to another model on the primary’s own upstream', async () => {
    const { fake, infra } = await start((server) => ({
      OPENAI_API_KEY: 'sk-key',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      LLM_FALLBACKS: 'openai:gpt-4o',
    }));
    fake.enqueue({ type: 'error', status: 503 }, { type: 'answer', content: 'from gpt-4o' });
    const result = await infra.llm.respond({
      model: 'gpt-4o-mini',
      input: 'and then?',
      previous_response_id: 'resp_earlier',
      store: false,
    });
    expect(result).toMatchObject({ stream: false, attempts: 2 });
    expect(fake.requests.map((request) => (request.body as { model?: unknown }).model)).toEqual(['gpt-4o-mini', 'gpt-4o']);
  });

  it('translates for Anthropic and streams the events in OpenAI’s order', async () => {
    const { fake, infra } = await start((server) => ({
      LLM_PROVIDER: 'anthropic',
      ANTHROPIC_API_KEY: 'sk-ant-key',
      ANTHROPIC_BASE_URL: server.anthropicBaseUrl,
    }));
    fake.enqueue({ type: 'answer', content: 'Hallo', chunks: 2 });
    const result = await infra.llm.respond({ model: 'claude-3-5-haiku-latest', input: 'hi', instructions: 'German.', stream: true });
    expect(result).toMatchObject({ stream: true, mode: 'translated', attempts: 1, cached: false });
    const events = await eventsOf(result);
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event['sequence_number'])).toEqual(events.map((_, index) => index));
    expect(events.at(-1)?.['response']).toMatchObject({ status: 'completed', instructions: 'German.', store: false });
    expect((fake.requests[0]!.body as { system?: unknown }).system).toEqual('German.');
  });

  it('gives a translated answer’s reasoning and leaves out, logged and counted, a field a Response has no place for', async () => {
    const captured = captureLogger('info');
    const { fake, infra } = await start(
      (server) => ({ LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_MODEL: 'llama3.1' }),
      captured.logger,
    );
    fake.enqueue({ type: 'answer', content: 'Hi.', reasoning: 'Greet back.', messageFields: { audio: { id: 'audio_1', data: 'UklG' } } });
    const result = await infra.llm.respond({ model: 'llama3.1', input: 'hi', store: false });
    if (result.stream) throw new Error('expected a whole response');
    expect(result.response['output']).toEqual([
      expect.objectContaining({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Greet back.' }] }),
      expect.objectContaining({ type: 'message' }),
    ]);
    const warning = captured.records.find((record) => String(record['msg']).includes('translated Responses answer'));
    expect(warning).toMatchObject({ level: 'warn', provider: 'openai-compatible', model: 'llama3.1', fields: ['audio'] });
    expect(captured.text()).not.toContain('UklG');
    const counted = await infra.metrics.droppedAnswerFields.get();
    expect(counted.values).toEqual([{ labels: { provider: 'openai-compatible', field: 'audio' }, value: 1 }]);
  });

  it('records a forwarded stream abandoned after it began with its estimated input and the output it delivered', async () => {
    const { fake, infra } = await start((server) => ({ OPENAI_API_KEY: 'sk-key', OPENAI_BASE_URL: server.openaiBaseUrl }));
    // The item and its content part, then two text deltas.
    fake.enqueue({ type: 'hang', afterChunks: 4 });
    // About 2,500 tokens of input.
    const input = 'word '.repeat(2_000);
    const result = await infra.llm.respond({ model: 'gpt-4o-mini', input, stream: true, store: false });
    if (!result.stream) throw new Error('expected a stream');
    const seen: ResponseStreamEvent[] = [];
    for await (const event of result.events) {
      seen.push(event);
      if (seen.filter((each) => each.type === 'response.output_text.delta').length === 2) break;
    }
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').selectAll().execute();
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({ operation: 'responses', outcome: 'cancelled', provider: 'openai', model: 'gpt-4o-mini' });
    expect(row?.prompt_tokens).toBeGreaterThan(2_400);
    expect(row?.completion_tokens).toBeGreaterThan(0);
    expect(Number(row?.cost_usd)).toBeGreaterThan(0);
  });

  it('forwards a function call without the signature and reasoning blocks a translated answer gave it, which OpenAI refuses', async () => {
    const { fake, infra } = await start((server) => ({ OPENAI_API_KEY: 'sk-key', OPENAI_BASE_URL: server.openaiBaseUrl }));
    fake.enqueue({ type: 'answer', content: 'whole' }, { type: 'answer', content: 'streamed', chunks: 2 });
    const call = { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' };
    const input = [
      { role: 'user', content: 'Weather in Oslo?' },
      { ...call, signature: 'c2lnbmVk', reasoning_blocks: [{ type: 'thinking', provider: 'anthropic', text: 'hm', signature: 's' }] },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
    ];
    await infra.llm.respond({ model: 'gpt-4o-mini', input, store: false });
    await eventsOf(await infra.llm.respond({ model: 'gpt-4o-mini', input, stream: true, store: false }));
    for (const request of fake.requests) expect((request.body as { input: unknown[] }).input).toEqual([input[0], call, input[2]]);
    expect(fake.requests).toHaveLength(2);
    // The caller's own body is left as it was.
    expect(input[1]).toHaveProperty('signature', 'c2lnbmVk');
  });

  it('records the upstream’s x-request-id of each forwarded call, whole and streamed', async () => {
    const { fake, infra } = await start((server) => ({ OPENAI_API_KEY: 'sk-key', OPENAI_BASE_URL: server.openaiBaseUrl }));
    fake.enqueue({ type: 'answer', content: 'whole' }, { type: 'answer', content: 'streamed', chunks: 2 });
    await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi', store: false });
    await eventsOf(await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi', stream: true, store: false }));
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['operation', 'request_id']).orderBy('id').execute();
    // The fake numbers its answers' x-request-id in the order the requests came.
    expect(rows).toEqual([
      { operation: 'responses', request_id: 'req_fake_1' },
      { operation: 'responses', request_id: 'req_fake_2' },
    ]);
  });

  it.each([
    ['forwarded', (server: FakeProviderServer) => ({ OPENAI_API_KEY: 'sk-key', OPENAI_BASE_URL: server.openaiBaseUrl })],
    [
      'translated',
      (server: FakeProviderServer) => ({
        LLM_PROVIDER: 'anthropic',
        ANTHROPIC_API_KEY: 'sk-ant-key',
        ANTHROPIC_BASE_URL: server.anthropicBaseUrl,
      }),
    ],
  ])('throws a %s stream’s failure after its first event from the iterator, with no error event', async (_mode, env) => {
    const { fake, infra } = await start(env);
    fake.enqueue({ type: 'cut-stream', afterChunks: 3 });
    const result = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi', stream: true, store: false });
    if (!result.stream) throw new Error('expected a stream');
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const event of result.events) seen.push(event.type);
    })().catch((caught: unknown) => caught);
    expect(failure).toMatchObject({ code: 'provider_connection' });
    expect(seen).toContain('response.output_text.delta');
    expect(seen).not.toContain('error');
  });

  it('cancels a forwarded stream left unread, and records it in the ledger as cancelled', async () => {
    const { fake, infra } = await start((server) => ({ OPENAI_API_KEY: 'sk-key', OPENAI_BASE_URL: server.openaiBaseUrl }));
    fake.enqueue({ type: 'hang', afterChunks: 2 });
    const result = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    if (!result.stream) throw new Error('expected a stream');
    await result.events[Symbol.asyncIterator]().return?.();
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['operation', 'outcome']).execute();
    expect(rows).toEqual([{ operation: 'responses', outcome: 'cancelled' }]);
  });
});
