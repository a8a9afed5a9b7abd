import { trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInfrastructure } from './create-infrastructure.js';
import * as groundwork from './index.js';
import { isLlmUnavailable } from './llm/is-llm-unavailable.js';
import { definePrompt } from './llm/prompt.js';
import { captureLogger } from './observability/capture-logger.test-helpers.js';
import { registerMemoryTracer } from './observability/memory-tracer.test-helpers.js';
import { type FakeProviderServer, startFakeProviderServer } from './testing/index.js';

const CANARY = 'sk-facade-canary-4f1d2e8a9b7c6d5e';
let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function capture() {
  const { logger, lines } = captureLogger('debug');
  return { lines, logger };
}

const baseEnv = () => ({
  DATABASE_URL: 'sqlite::memory:',
  LLM_PROVIDER: 'openai',
  OPENAI_API_KEY: CANARY,
  OPENAI_BASE_URL: fake.openaiBaseUrl,
  LLM_MAX_ATTEMPTS: '1',
  LLM_CIRCUIT_FAILURE_THRESHOLD: '2',
  LLM_LEDGER_FLUSH_MS: '10',
});

const translate = definePrompt({
  name: 'facade-translate',
  version: 2,
  system: 'You translate single words.',
  template: 'Translate "{{word}}" into {{target}}.',
  schema: z.object({ translations: z.array(z.string()) }),
  temperature: 0,
});

describe('the facade over the LLM client', () => {
  it('has the provider adapters loaded when it resolves, so the first call loads nothing inside its time limit', async () => {
    // getProvider is synchronous: it can build the adapter only if its module is already loaded.
    const configured = await createInfrastructure({ env: baseEnv(), envFile: false, logger: capture().logger });
    try {
      expect(configured.llm.getProvider('openai').name).toBe('openai');
      // Another provider without its key still fails with what to set.
      expect(() => configured.llm.getProvider('anthropic')).toThrow(/ANTHROPIC_API_KEY/);
    } finally {
      await configured.close();
    }
    // With no provider configured the adapters are not loaded, and every provider says what to set.
    const bare = await createInfrastructure({ env: { DATABASE_URL: 'sqlite::memory:' }, envFile: false, logger: capture().logger });
    try {
      expect(() => bare.llm.getProvider()).toThrow(expect.objectContaining({ code: 'llm_not_configured', variables: ['OPENAI_API_KEY'] }));
      expect(() => bare.llm.getProvider('bedrock')).toThrow(/AWS_REGION/);
    } finally {
      await bare.close();
    }
  });

  it('runs a prompt through the whole path, writes the usage ledger and answers repeats from the cache', async () => {
    const { lines, logger } = capture();
    const infra = await createInfrastructure({ env: baseEnv(), envFile: false, logger });
    await infra.initDb();
    fake.enqueue({ type: 'answer', json: { translations: ['привет', 'здравствуйте'] }, usage: { promptTokens: 20, completionTokens: 8 } });

    const first = await infra.executePrompt(translate, { word: 'hello', target: 'Russian' });
    expect(first.data.translations).toEqual(['привет', 'здравствуйте']);
    expect(first.metadata).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      promptName: 'facade-translate',
      promptVersion: '2',
      cached: false,
    });
    expect(first.usage).toMatchObject({ promptTokens: 20, completionTokens: 8, totalTokens: 28 });
    expect(first.usage.costUsd).toBeGreaterThan(0);

    const second = await infra.executePrompt(translate, { word: 'hello', target: 'Russian' });
    expect(second.metadata.cached).toBe(true);
    expect(second.usage).toMatchObject({ promptTokens: 20, completionTokens: 8, totalTokens: 28, costUsd: 0 });
    expect(fake.requests).toHaveLength(1);

    const metrics = await infra.metrics.registry.metrics();
    expect(metrics).toMatch(/^groundwork_llm_cache_lookups_total\{result="hit"\} 1$/m);
    const cost = metrics.match(/^groundwork_llm_cost_usd_total\{[^}]*provider="openai"[^}]*\} (\S+)$/m)?.[1];
    expect(Number(cost)).toBeCloseTo(first.usage.costUsd, 12);
    expect(metrics).toMatch(/^gen_ai_client_token_usage_sum\{[^}]*gen_ai_token_type="input"[^}]*\} 20$/m);

    const bound = infra.getLlmClient();
    expect(bound).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });

    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').selectAll().orderBy('id').execute();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      provider: 'openai',
      prompt_name: 'facade-translate',
      prompt_version: '2',
      prompt_tokens: 20,
      outcome: 'success',
      cache_hit: false,
    });
    expect(rows[1]).toMatchObject({ cache_hit: true, cost_usd: 0, prompt_tokens: 0 });
    await infra.close();
    expect(lines.join('')).not.toContain(CANARY);
  });

  it('attributes a call to its virtual key and team in the ledger and the spend metric', async () => {
    const infra = await createInfrastructure({ env: baseEnv(), envFile: false, logger: capture().logger });
    await infra.initDb();
    fake.enqueue({ type: 'answer', content: 'hi', usage: { promptTokens: 10, completionTokens: 5 } });
    const response = await infra.llm.complete(
      { messages: [{ role: 'user', content: 'hello' }] },
      { attribution: { keyId: 'key_a', teamId: 'team_b' } },
    );
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['key_id', 'team_id']).execute();
    expect(rows).toEqual([{ key_id: 'key_a', team_id: 'team_b' }]);
    const metrics = await infra.metrics.registry.metrics();
    const spend = metrics.match(/^groundwork_tenant_spend_usd_total\{key_id="key_a",team_id="team_b"\} (\S+)$/m)?.[1];
    expect(Number(spend)).toBeCloseTo(response.usage.costUsd, 12);
    await infra.close();
  });

  it('reports an open breaker as degraded health, and its refusal as the LLM being unavailable', async () => {
    const { lines, logger } = capture();
    const infra = await createInfrastructure({ env: baseEnv(), envFile: false, logger });
    fake.setHandler(() => ({ type: 'error', status: 503, message: `upstream down for ${CANARY}` }));
    const failures: unknown[] = [];
    for (let index = 0; index < 3; index++) {
      failures.push(await infra.executePrompt(translate, { word: `w${index}`, target: 'German' }).catch((error: unknown) => error));
    }
    expect(failures.every((failure) => isLlmUnavailable(failure))).toBe(true);
    expect((failures[2] as { code: string }).code).toBe('circuit_open');
    expect(fake.requests).toHaveLength(2);

    const metrics = await infra.metrics.registry.metrics();
    expect(metrics).toMatch(/^groundwork_llm_circuit_state\{provider="openai",model="gpt-4o-mini"\} 2$/m);
    expect(metrics).toMatch(/^groundwork_llm_calls_total\{[^}]*outcome="circuit_open"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^groundwork_llm_circuit_transitions_total\{[^}]*to="open"[^}]*\} 1$/m);
    const health = await infra.health();
    expect(health.status).toBe('degraded');
    expect(health.dependencies.find((dependency) => dependency.name === 'llm:openai')).toMatchObject({
      status: 'degraded',
      info: { breaker: 'open' },
    });
    for (const failure of failures) expect(String((failure as Error).message)).not.toContain(CANARY);
    await infra.close();
    expect(lines.join('')).not.toContain(CANARY);
  });

  it('proves the provider answers in a deep health check and fails it with a clear reason', async () => {
    const infra = await createInfrastructure({ env: baseEnv(), envFile: false, logger: capture().logger });
    expect((await infra.health({ deep: true })).dependencies.find((dependency) => dependency.name === 'llm:openai')?.status).toBe('ok');
    // The queue answers every route, the models listing the health check reads included.
    fake.enqueue({ type: 'error', status: 401, message: 'bad key' });
    const failing = (await infra.health({ deep: true })).dependencies.find((dependency) => dependency.name === 'llm:openai');
    expect(failing?.status).toBe('down');
    expect(failing?.detail).toMatch(/authentication/);
    expect(JSON.stringify(failing)).not.toContain(CANARY);
    await infra.close();
  });

  it('fails a refused call and a call after close with errors the package root exports', async () => {
    const infra = await createInfrastructure({ env: baseEnv(), envFile: false, logger: capture().logger });
    const refused = await infra.llm.complete({ messages: [] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(groundwork.LlmRequestError);
    expect((refused as groundwork.LlmRequestError).problems).toEqual(['messages: must not be empty']);
    const { llm } = infra;
    await infra.close();
    await expect(llm.complete({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(groundwork.LlmClientClosedError);
  });

  it('says which variables to set when no provider is configured', async () => {
    const infra = await createInfrastructure({ env: { DATABASE_URL: 'sqlite::memory:' }, envFile: false, logger: capture().logger });
    const error = await infra.executePrompt(translate, { word: 'a', target: 'b' }).catch((caught: unknown) => caught);
    expect(isLlmUnavailable(error)).toBe(true);
    expect(String((error as Error).message)).toContain('OPENAI_API_KEY');
    await infra.close();
  });
});

describe('an earlier answer’s images, given back on its assistant message', () => {
  const DOT = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const geminiEnv = () => ({
    ...baseEnv(),
    LLM_PROVIDER: 'gemini',
    GEMINI_API_KEY: 'AIza-facade-key',
    GEMINI_BASE_URL: fake.geminiBaseUrl,
  });

  it('go back to Gemini as the model turn’s inline data, so that the image can be edited', async () => {
    const infra = await createInfrastructure({ env: geminiEnv(), envFile: false, logger: capture().logger });
    fake.enqueue(
      { type: 'answer', content: 'A dot.', images: [{ mediaType: 'image/png', data: DOT }] },
      { type: 'answer', content: 'A red dot.' },
    );
    const model = 'gemini-2.5-flash-image';
    const messages: groundwork.ChatMessage[] = [{ role: 'user', content: 'Draw a dot.' }];
    const first = await infra.llm.complete({ model, messages });
    // The answer holds them as OpenAI-compatible servers answer them; the message takes them as image parts.
    const answered = first.choices[0]?.message.passthrough?.['images'] as Array<{ image_url: { url: string } }>;
    const images = answered.map((image) => ({ type: 'image' as const, url: image.image_url.url }));
    messages.push({ role: 'assistant', content: first.content, images }, { role: 'user', content: 'Now make it red.' });
    const second = await infra.llm.complete({ model, messages });
    expect(second.content).toBe('A red dot.');
    expect((fake.requests[1]?.body as { contents?: unknown[] } | undefined)?.contents?.[1]).toEqual({
      role: 'model',
      parts: [{ text: 'A dot.' }, { inlineData: { mimeType: 'image/png', data: DOT } }],
    });
    await infra.close();
  });

  it('are refused when they are not the data: URL an answer gives', async () => {
    const infra = await createInfrastructure({ env: geminiEnv(), envFile: false, logger: capture().logger });
    const refused = await infra.llm
      .complete({
        messages: [
          { role: 'user', content: 'Draw a dot.' },
          { role: 'assistant', content: 'A dot.', images: [{ type: 'image', url: 'https://example.com/dot.png' }] },
        ],
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(groundwork.LlmRequestError);
    expect((refused as groundwork.LlmRequestError).problems).toEqual([
      'messages.1.images.0.url: must be a data:image/…;base64 URL, as the answer gave it',
    ]);
    expect(fake.requests).toHaveLength(0);
    await infra.close();
  });
});

describe('spans', () => {
  afterEach(() => trace.disable());

  it('records a GenAI client span per provider request and a span per transaction, without prompt text by default', async () => {
    const tracer = registerMemoryTracer();
    const infra = await createInfrastructure({ env: baseEnv(), envFile: false, logger: capture().logger });
    await infra.initDb();
    fake.enqueue({ type: 'answer', json: { translations: ['Katze'] }, usage: { promptTokens: 11, completionTokens: 3 } });
    await infra.executePrompt(translate, { word: 'cat', target: 'German' }, { cache: false });
    await infra.withSession(async (tx) => tx.selectFrom('llm_usage').select('id').execute());
    await expect(infra.withSession(async () => Promise.reject(new Error('business rule failed')))).rejects.toThrow('business rule failed');

    const llmSpan = tracer.spans.find((span) => span.name === 'chat gpt-4o-mini');
    expect(llmSpan?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 3,
    });
    expect(JSON.stringify(llmSpan?.attributes)).not.toContain('cat');
    const transactions = tracer.spans.filter((span) => span.name === 'transaction');
    expect(transactions.map((span) => span.attributes['groundwork.db.transaction.outcome'])).toEqual(
      expect.arrayContaining(['commit', 'rollback']),
    );
    expect(transactions.every((span) => span.ended && span.attributes['db.system.name'] === 'sqlite')).toBe(true);
    await infra.close();
  });
});
