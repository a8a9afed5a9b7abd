import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createResponseCache } from '../cache/create-response-cache.js';
import type { LlmProviderName } from '../config/variables.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { createResiliencePipeline } from '../resilience/create-resilience-pipeline.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';
import { ManualClock } from '../testing/manual-clock.js';
import { type CallPipeline, directPipeline } from './call-pipeline.js';
import { createLlmClient } from './create-llm-client.js';
import { CANARY_KEY, capturingLogger, providerEnv, rejection, testConfig } from './llm.test-helpers.js';
import type { LlmClientDeps } from './llm-client.js';
import type { LlmClient, LlmStreamEvent } from './llm-client-types.js';
import { LlmClientClosedError } from './llm-errors.js';
import { definePrompt } from './prompt.js';
import { PromptRegistry } from './prompt-registry.js';
import { defineTool } from './tools/tool.js';
import type { UsageRecord } from './usage-record.js';

/** Gives each attempt a signal of its own that never aborts, like a pipeline whose attempt has already resolved. */
const detachedPipeline: CallPipeline = {
  async execute(plan, attempt) {
    const target = plan.targets[0]!;
    const result = await attempt({ target, attempt: 1, signal: new AbortController().signal });
    return { value: result.value, target, attempts: [{ ...target, attempt: 1, outcome: 'success', latencyMs: 0 }] };
  },
};

const registry = new PromptRegistry();
const greet = definePrompt({ name: 'greet', version: 1, system: 'Be brief.', template: 'Say hi to {{name}}.' }, { registry });
const translate = definePrompt(
  {
    name: 'translate',
    version: 3,
    template: 'Translate {{word}}.',
    schema: z.object({ translation: z.string(), confidence: z.number() }),
    temperature: 0,
  },
  { registry },
);

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

function client(name: LlmProviderName, deps: Partial<LlmClientDeps> = {}, env: Record<string, string> = {}): LlmClient {
  return createLlmClient(testConfig({ ...providerEnv(name, fake), ...env }), { logger: capturingLogger().logger, ...deps });
}

async function collect<T>(events: AsyncIterable<LlmStreamEvent<T>>): Promise<LlmStreamEvent<T>[]> {
  const all: LlmStreamEvent<T>[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe.each<LlmProviderName>(['openai', 'azure', 'openai-compatible', 'anthropic'])('LlmClient on %s', (name) => {
  let llm: LlmClient;
  beforeEach(() => {
    llm = client(name, {}, { LLM_PRICES: JSON.stringify({ 'prod-deploy': { input: 1, output: 2 }, 'llama3.1': { input: 1, output: 2 } }) });
  });
  afterEach(() => llm.close());

  it('executes a prompt: content, metadata, usage and cost', async () => {
    fake.enqueue({ type: 'answer', content: 'Hi Ada!', usage: { promptTokens: 1000, completionTokens: 500 } });
    const response = await llm.executePrompt(greet, { name: 'Ada' });
    expect(response.content).toBe('Hi Ada!');
    expect(response.data).toBeUndefined();
    expect(response.metadata).toMatchObject({
      provider: name,
      promptName: 'greet',
      promptVersion: '1',
      requestId: 'req_fake_1',
      finishReason: 'stop',
      cached: false,
    });
    expect(response.metadata.attempts).toMatchObject([{ provider: name, attempt: 1, outcome: 'success' }]);
    expect(response.usage).toMatchObject({ promptTokens: 1000, completionTokens: 500, totalTokens: 1500 });
    const expected =
      name === 'openai' ? (1000 * 0.15 + 500 * 0.6) / 1e6 : name === 'anthropic' ? (1000 * 0.8 + 500 * 4) / 1e6 : (1000 + 1000) / 1e6;
    expect(response.usage.costUsd).toBeCloseTo(expected, 10);
  });

  it('returns validated structured data', async () => {
    fake.enqueue({ type: 'answer', json: { translation: 'hallo', confidence: 0.9 } });
    const response = await llm.executePrompt(translate, { word: 'hello' }, { cache: false });
    expect(response.data).toEqual({ translation: 'hallo', confidence: 0.9 });
    expectTypeOf(response.data).toEqualTypeOf<{ translation: string; confidence: number }>();
    const body = fake.requests[0]?.body as Record<string, unknown>;
    if (name === 'anthropic') expect(body['tool_choice']).toEqual({ type: 'tool', name: 'translate' });
    else if (name === 'openai-compatible') expect(body['response_format']).toEqual({ type: 'json_object' });
    else expect(body['response_format']).toMatchObject({ type: 'json_schema', json_schema: { name: 'translate', strict: true } });
  });

  it('repairs an answer that breaks the schema once', async () => {
    fake.enqueue({ type: 'answer', json: { translation: 'hallo' } }, { type: 'answer', json: { translation: 'hallo', confidence: 1 } });
    const response = await llm.executePrompt(translate, { word: 'hello' }, { cache: false });
    expect(response.data).toEqual({ translation: 'hallo', confidence: 1 });
    expect(fake.requests).toHaveLength(2);
    const repair = JSON.stringify(fake.requests[1]?.body);
    expect(repair).toContain('does not match the schema');
    expect(response.metadata.attempts).toHaveLength(2);
  });

  it('streams deltas then the whole response, the start naming the answer as the provider did', async () => {
    // A creation time long past, which no clock read during the test can give.
    const created = 1_700_000_000;
    fake.enqueue({ type: 'answer', content: 'one two three', chunks: 3, created, usage: { promptTokens: 10, completionTokens: 3 } });
    const events = await collect(llm.streamPrompt(greet, { name: 'Ada' }));
    const text = events.flatMap((event) => (event.type === 'delta' ? [event.text] : [])).join('');
    expect(text).toBe('one two three');
    const done = events.at(-1);
    expect(done?.type === 'done' && done.response).toMatchObject({
      content: 'one two three',
      usage: { promptTokens: 10, completionTokens: 3 },
    });
    const answerId = fake.requests[0]?.answerId;
    expect(answerId).toBeDefined();
    // Anthropic's stream does not say when it made its answer.
    const startCreated = name === 'anthropic' ? undefined : created;
    expect(fake.requests[0]?.answerCreated).toBe(startCreated);
    expect(events[0]).toMatchObject({ type: 'start', id: answerId });
    expect(events[0]?.type === 'start' && events[0].created).toBe(startCreated);
    expect(done?.type === 'done' && done.response.metadata.responseId).toBe(answerId);
  });

  it('ends a stream cut short with an error', async () => {
    fake.enqueue({ type: 'cut-stream', afterChunks: 2 });
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of llm.streamPrompt(greet, { name: 'Ada' })) seen.push(event.type);
      })(),
    );
    expect(error).toMatchObject({ name: 'ProviderConnectionError' });
    expect(seen).not.toContain('done');
  });
});

describe('LlmClient structured output failures', () => {
  it('fails with the raw content after the repairs, without logging it', async () => {
    const { logger, lines } = capturingLogger();
    const llm = client('openai', { logger });
    fake.enqueue({ type: 'answer', content: 'not json at all' }, { type: 'answer', json: { wrong: true } });
    const error = await rejection(llm.executePrompt(translate, { word: 'hello' }, { cache: false }));
    expect(error).toMatchObject({ name: 'StructuredOutputError', answers: 2, promptName: 'translate' });
    expect((error as unknown as { content: string }).content).toBe('{"wrong":true}');
    expect(fake.requests).toHaveLength(2);
    logger.error({ err: error }, 'call failed');
    expect(lines.join('')).not.toContain('{\\"wrong\\":true}');
    expect(lines.join('')).not.toContain('not json at all');
  });

  it('keeps the words of an answer that is not JSON out of the error message', async () => {
    const llm = client('openai');
    fake.enqueue({ type: 'answer', content: 'Sure! Here is the record of Ada Lovelace' });
    const error = await rejection(llm.executePrompt(translate, { word: 'hello' }, { cache: false, repairs: 0 }));
    expect(error).toMatchObject({ name: 'StructuredOutputError', problem: expect.stringContaining('not valid JSON') });
    expect((error as unknown as { content: string }).content).toBe('Sure! Here is the record of Ada Lovelace');
    expect(error.message).not.toMatch(/Sure|Here|Ada/);
    expect(JSON.stringify(error)).not.toMatch(/Sure|Here|Ada/);
  });

  it('refuses a repair count that is not a whole number of at least 0, before anything is sent', async () => {
    const llm = client('openai');
    for (const repairs of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await rejection(llm.executePrompt(translate, { word: 'x' }, { cache: false, repairs }));
      expect(error).toMatchObject({ name: 'LlmRequestError', problems: [`repairs: must be a whole number of at least 0, not ${repairs}`] });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a response format it cannot send, rather than sending the call without it', async () => {
    const llm = client('openai');
    const messages = [{ role: 'user' as const, content: 'Answer in JSON.' }];
    const misspelt = await rejection(llm.complete({ messages, responseFormat: { type: 'json' } as never }));
    expect(misspelt).toMatchObject({ name: 'LlmRequestError', problems: [expect.stringMatching(/^responseFormat\.type: /)] });
    const unnamed = await rejection(
      llm.complete({ messages, responseFormat: { type: 'json_schema', schema: { type: 'object' } } as never }),
    );
    expect(unnamed).toMatchObject({ name: 'LlmRequestError', problems: [expect.stringMatching(/^responseFormat\.name: /)] });
    expect(fake.requests).toHaveLength(0);
    fake.enqueue({ type: 'answer', json: { ok: true } });
    const answered = await llm.complete({ messages, responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' } } });
    expect(JSON.parse(answered.content)).toEqual({ ok: true });
  });

  it('refuses a request field it does not know, rather than sending the call without it', async () => {
    const llm = client('openai');
    const error = await rejection(llm.complete({ messages: [{ role: 'user', content: 'Be brief.' }], max_tokens: 5 } as never));
    expect(error).toMatchObject({ name: 'LlmRequestError', problems: ['request: Unrecognized key: "max_tokens"'] });
    expect(fake.requests).toHaveLength(0);
  });

  it('takes the repair count per call', async () => {
    const llm = client('anthropic');
    fake.enqueue({ type: 'answer', content: 'nope' });
    await expect(llm.executePrompt(translate, { word: 'x' }, { cache: false, repairs: 0 })).rejects.toMatchObject({ answers: 1 });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('LlmClient streaming timeouts and cancellation', () => {
  const streamEnv = { LLM_STREAM_FIRST_CHUNK_TIMEOUT_MS: '5000', LLM_STREAM_IDLE_TIMEOUT_MS: '2000' };

  it('times out waiting for the first chunk', async () => {
    const clock = new ManualClock();
    const llm = client('openai', { clock }, streamEnv);
    fake.enqueue({ type: 'hang' });
    const iterator = llm.streamPrompt(greet, { name: 'Ada' })[Symbol.asyncIterator]();
    const next = rejection(iterator.next());
    await fake.waitForRequests(1);
    clock.advance(5000);
    expect(await next).toMatchObject({
      name: 'ProviderTimeoutError',
      retryable: true,
      message: expect.stringContaining('no first chunk within 5000 ms'),
    });
  });

  it('times out when the stream falls silent', async () => {
    const clock = new ManualClock();
    const llm = client('anthropic', { clock }, streamEnv);
    fake.enqueue({ type: 'hang', afterChunks: 1 });
    const iterator = llm.streamPrompt(greet, { name: 'Ada' })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'start', provider: 'anthropic', attempts: 1, cached: false });
    expect((await iterator.next()).value).toMatchObject({ type: 'delta' });
    const next = rejection(iterator.next());
    clock.advance(1999);
    clock.advance(1);
    expect(await next).toMatchObject({ name: 'ProviderTimeoutError', message: expect.stringContaining('no chunk for 2000 ms') });
  });

  it.each([
    ['the direct pipeline', directPipeline],
    ['a pipeline that unlinks the attempt signal once the attempt resolves', detachedPipeline],
  ])('is cancelled by the caller’s signal through %s', async (_name, pipeline) => {
    const llm = client('openai', { pipeline });
    fake.enqueue({ type: 'hang', afterChunks: 1 });
    const controller = new AbortController();
    const iterator = llm.streamPrompt(greet, { name: 'Ada' }, { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'start' });
    expect((await iterator.next()).value).toMatchObject({ type: 'delta' });
    const next = rejection(iterator.next());
    controller.abort();
    const error = await next;
    expect(error.name).toBe('AbortError');
  });

  it.each([
    ['the direct pipeline', () => directPipeline],
    ['the resilience pipeline', () => createResiliencePipeline(testConfig({}).resilience, { logger: capturingLogger().logger })],
  ])(
    'cuts the running tool of a tool loop whose reader leaves, with no signal of its own, and sends no next turn, through %s',
    async (_name, makePipeline) => {
      const inner = makePipeline();
      let attempts = 0;
      const pipeline: CallPipeline = {
        execute: (plan, attempt) =>
          inner.execute(plan, (info) => {
            attempts++;
            return attempt(info);
          }),
      };
      const llm = client('openai', { pipeline });
      let toolSignal: AbortSignal | undefined;
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const slow = defineTool({
        description: 'Takes its time.',
        parameters: z.object({}),
        execute: async (_args, { signal }) => {
          toolSignal = signal;
          started();
          await finished;
          return 'late';
        },
      });
      fake.enqueue({ type: 'answer', toolCalls: [{ name: 'slow', arguments: {} }] }, { type: 'answer', content: 'never asked for' });
      try {
        // No signal of the caller's: only the reader's leaving can cut the call.
        for await (const event of llm.stream({ messages: [{ role: 'user', content: 'Go.' }] }, { tools: { slow } })) {
          if (event.type !== 'tool-call-delta') continue;
          await running;
          break;
        }
        expect(toolSignal?.aborted).toBe(true);
        expect(toolSignal?.reason).toMatchObject({ name: 'AbortError', message: 'The stream was abandoned by its reader' });
        finish();
        // Between the tool's end and a next attempt there are only microtasks, all run before this.
        await new Promise((resolve) => setImmediate(resolve));
        expect(attempts).toBe(1);
        expect(fake.requests).toHaveLength(1);
      } finally {
        finish();
        await llm.close();
        await (inner as { close?: () => Promise<void> }).close?.();
      }
    },
  );
});

describe('LlmClient cache, ledger and metrics', () => {
  it('streams a fresh answer in place of a cached one that no longer matches the prompt’s schema, as executePrompt does', async () => {
    const logger = capturingLogger().logger;
    const cache = createResponseCache(
      { mode: 'memory', ttlSeconds: 60, maxEntries: 10, maxBytes: 1_000_000, namespace: 'test' },
      { logger },
    );
    const llm = client('openai', { cache, logger });
    fake.enqueue({ type: 'answer', json: { translation: 'hallo', confidence: 0.2 } });
    await llm.executePrompt(translate, { word: 'hello' });
    // The same prompt, now refusing low confidence: a check JSON Schema cannot state, so the cache key stays the same.
    const sure = definePrompt(
      {
        name: 'translate',
        version: 3,
        template: 'Translate {{word}}.',
        schema: z.object({ translation: z.string(), confidence: z.number().refine((value) => value >= 0.5) }),
        temperature: 0,
      },
      { registry },
    );
    fake.enqueue({ type: 'answer', json: { translation: 'hallo', confidence: 0.9 } });
    const events = await collect(llm.streamPrompt(sure, { word: 'hello' }));
    expect(events[0]).toMatchObject({ type: 'start', cached: false });
    const text = events.map((event) => (event.type === 'delta' ? event.text : '')).join('');
    expect(JSON.parse(text)).toEqual({ translation: 'hallo', confidence: 0.9 });
    const done = events.at(-1);
    expect(done?.type === 'done' && done.response.data).toEqual({ translation: 'hallo', confidence: 0.9 });
    expect(fake.requests).toHaveLength(2);
    const again = await llm.executePrompt(sure, { word: 'hello' });
    expect(again.metadata.cached).toBe(true);
    expect(again.data.confidence).toBe(0.9);
    await llm.close();
  });

  it('has close() wait for the fresh answer a stream fetches in place of a stale cached one, and records it', async () => {
    const logger = capturingLogger().logger;
    const cache = createResponseCache(
      { mode: 'memory', ttlSeconds: 60, maxEntries: 10, maxBytes: 1_000_000, namespace: 'test' },
      { logger },
    );
    const rows: UsageRecord[] = [];
    const llm = client('openai', { cache, logger, usageSink: { writeBatch: async (batch) => void rows.push(...batch) } });
    fake.enqueue({ type: 'answer', json: { translation: 'hallo', confidence: 0.2 } });
    await llm.executePrompt(translate, { word: 'hello' });
    const sure = definePrompt(
      {
        name: 'translate',
        version: 3,
        template: 'Translate {{word}}.',
        schema: z.object({ translation: z.string(), confidence: z.number().refine((value) => value >= 0.5) }),
        temperature: 0,
      },
      { registry },
    );
    fake.enqueue({ type: 'answer', json: { translation: 'hallo', confidence: 0.9 } });
    const events = llm.streamPrompt(sure, { word: 'hello' })[Symbol.asyncIterator]();
    // The stream is running (its cache lookup under way) when close() is called: close() waits for all of it.
    const first = events.next();
    const closed = llm.close();
    const read: LlmStreamEvent<unknown>[] = [];
    for (let next = await first; !next.done; next = await events.next()) read.push(next.value);
    await closed;
    const done = read.at(-1);
    expect(done?.type === 'done' && done.response.data).toEqual({ translation: 'hallo', confidence: 0.9 });
    expect(fake.requests).toHaveLength(2);
    expect(rows.map((row) => [row.outcome, row.cacheHit])).toEqual([
      ['success', false],
      ['success', false],
    ]);
  });

  it('answers a repeated deterministic prompt from the cache at no cost, also as a stream', async () => {
    const logger = capturingLogger().logger;
    const cache = createResponseCache(
      { mode: 'memory', ttlSeconds: 60, maxEntries: 10, maxBytes: 1_000_000, namespace: 'test' },
      { logger },
    );
    const llm = client('openai', { cache, logger });
    fake.enqueue({ type: 'answer', json: { translation: 'hallo', confidence: 1 } });
    const first = await llm.executePrompt(translate, { word: 'hello' });
    const second = await llm.executePrompt(translate, { word: 'hello' });
    expect(first.metadata.cached).toBe(false);
    expect(second.metadata.cached).toBe(true);
    expect(second.data).toEqual(first.data);
    // The original usage is kept; only the cost is zero, since nothing was spent.
    expect(second.usage).toMatchObject({ totalTokens: first.usage.totalTokens, costUsd: 0 });
    expect(first.usage.totalTokens).toBeGreaterThan(0);
    const streamed = await collect(llm.streamPrompt(translate, { word: 'hello' }));
    const done = streamed.at(-1);
    expect(done?.type === 'done' && done.response.metadata.cached).toBe(true);
    // The replay starts with the cached answer's own id and creation time.
    expect(first.metadata.responseId).toBe(fake.requests[0]?.answerId);
    expect(first.metadata.created).toEqual(expect.any(Number));
    expect(streamed[0]).toEqual({
      type: 'start',
      provider: 'openai',
      model: first.metadata.model,
      attempts: 0,
      cached: true,
      id: first.metadata.responseId,
      created: first.metadata.created,
    });
    expect(
      streamed
        .filter((event) => event.type === 'delta')
        .map((event) => (event.type === 'delta' ? event.text : ''))
        .join(''),
    ).toBe(first.content);
    expect(fake.requests).toHaveLength(1);
    await cache?.close();
  });

  it('writes one ledger row per call and counts metrics', async () => {
    const rows: UsageRecord[] = [];
    const metrics = new GroundworkMetrics();
    const llm = client('openai', { usageSink: { writeBatch: async (batch) => void rows.push(...batch) }, metrics });
    fake.enqueue({ type: 'answer', usage: { promptTokens: 100, completionTokens: 10 } }, { type: 'error', status: 500 });
    await llm.executePrompt(greet, { name: 'Ada' });
    await expect(llm.executePrompt(greet, { name: 'Ada' })).rejects.toMatchObject({ name: 'ProviderServerError' });
    await llm.close();
    expect(rows).toMatchObject([
      {
        provider: 'openai',
        promptName: 'greet',
        promptVersion: '1',
        promptTokens: 100,
        outcome: 'success',
        attempts: 1,
        requestId: 'req_fake_1',
      },
      { outcome: 'provider_server_error', promptTokens: 0, cacheHit: false },
    ]);
    const calls = await metrics.llmCalls.get();
    expect(calls.values.map((value) => value.labels['outcome']).sort()).toEqual(['provider_server_error', 'success']);
    expect((await metrics.llmCost.get()).values[0]?.value).toBeGreaterThan(0);
  });
});

describe('LlmClient input and configuration errors', () => {
  it('names missing prompt variables before any request', async () => {
    const llm = client('openai');
    await expect(llm.executePrompt(greet, {} as never)).rejects.toMatchObject({ name: 'PromptVariableError', missing: ['name'] });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an invalid raw request', async () => {
    const llm = client('openai');
    await expect(llm.complete({ messages: [], temperature: 5 })).rejects.toMatchObject({ name: 'LlmRequestError' });
  });

  it('refuses, as a call after close() is, a stream made before close() and read after it, and sends nothing', async () => {
    const rows: UsageRecord[] = [];
    const llm = client('openai', { usageSink: { writeBatch: async (batch) => void rows.push(...batch) } });
    fake.enqueue({ type: 'answer', content: 'too late' });
    const stream = llm.stream({ messages: [{ role: 'user', content: 'hi' }] });
    await llm.close();
    const error = await rejection(collect(stream));
    expect(error).toBeInstanceOf(LlmClientClosedError);
    expect(fake.requests).toHaveLength(0);
    expect(rows).toEqual([]);
  });

  it('completes raw requests on the same path', async () => {
    const llm = client('openai');
    fake.enqueue({ type: 'answer', content: 'raw' });
    const response = await llm.complete({ messages: [{ role: 'user', content: 'hi' }], model: 'gpt-4o' });
    expect(response).toMatchObject({ content: 'raw', metadata: { model: 'gpt-4o', promptName: undefined } });
  });

  it('says which variables to set when no provider is configured', async () => {
    const llm = createLlmClient(testConfig({}), { logger: capturingLogger().logger });
    await expect(llm.executePrompt(greet, { name: 'Ada' })).rejects.toThrow(/not configured: set OPENAI_API_KEY/);
  });

  it('pings the provider', async () => {
    const llm = client('anthropic');
    await expect(llm.ping()).resolves.toMatchObject({ provider: 'anthropic' });
  });

  it('never lets the API key reach an error or a log line', async () => {
    const { logger, lines } = capturingLogger();
    const llm = client('openai', { logger });
    fake.enqueue({ type: 'error', status: 401, message: `Incorrect API key provided: ${CANARY_KEY}` });
    const error = await rejection(llm.executePrompt(greet, { name: 'Ada' }));
    logger.error({ err: error }, `call failed: ${error.message}`);
    expect(error.message).not.toContain(CANARY_KEY);
    expect(JSON.stringify(error)).not.toContain(CANARY_KEY);
    expect(lines.join('\n')).not.toContain(CANARY_KEY);
    expect(lines.length).toBeGreaterThan(0);
  });
});
