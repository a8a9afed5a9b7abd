import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';
import { createServer, type GroundworkServer } from './create-server.js';
import { createServiceBackend } from './infrastructure-backend.js';
import type { ServiceBackend } from './service-backend.js';
import { refusal } from './service-stack.test-helpers.js';

const KEY = 'gw-e2e-key-3b9d';

/** The whole service: fake provider ← Groundwork facade (SQLite in memory) ← `groundwork serve` ← the OpenAI SDK. */
interface Stack {
  fake: FakeProviderServer;
  infrastructure: Infrastructure;
  backend: ServiceBackend;
  server: GroundworkServer;
  client: OpenAI;
  url: string;
}

let stack: Stack | undefined;

async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const fake = await startFakeProviderServer();
  const infrastructure = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-upstream-secret-7c1e',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_CACHE: 'memory',
      LLM_MAX_ATTEMPTS: '1',
      LLM_RETRY_MIN_MS: '1',
      LLM_RETRY_MAX_MS: '5',
      GROUNDWORK_API_KEYS: KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
    envFile: false,
    logger: silentLogger(),
  });
  const backend = createServiceBackend(infrastructure);
  await backend.migrate?.();
  const server = createServer(backend, infrastructure.config.server, { logger: silentLogger(), metrics: infrastructure.metrics });
  const address = await server.listen();
  const url = `http://127.0.0.1:${address.port}`;
  const client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0 });
  stack = { fake, infrastructure, backend, server, client, url };
  return stack;
}

afterEach(async () => {
  await stack?.server.close();
  await stack?.fake.close();
  stack = undefined;
});

describe('groundwork serve in front of the fake provider', () => {
  it('answers a completion through the full call path, and the cache serves the repeat the caller opted into', async () => {
    const { client, fake } = await startStack();
    fake.enqueue({ type: 'answer', content: 'Hallo', usage: { promptTokens: 9, completionTokens: 2 } });
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello in German' }], temperature: 0 };
    const useCache = { headers: { 'X-Groundwork-Cache': 'use' } };
    const first = await client.chat.completions.create(request, useCache);
    expect(first.choices[0]?.message.content).toBe('Hallo');
    expect(first.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 });
    const repeat = await client.chat.completions.create(request, useCache).withResponse();
    expect(repeat.data.choices[0]?.message.content).toBe('Hallo');
    expect(repeat.response.headers.get('x-groundwork-cache')).toBe('hit');
    expect(fake.requests.filter((recorded) => recorded.wire === 'openai')).toHaveLength(1);
  });

  it('asks the provider every time when neither the caller nor the operator turned the cache on', async () => {
    const { client, fake } = await startStack();
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello' }], temperature: 0 };
    await client.chat.completions.create(request);
    const repeat = await client.chat.completions.create(request).withResponse();
    expect(repeat.response.headers.get('x-groundwork-cache')).toBe('miss');
    expect(fake.requests.filter((recorded) => recorded.wire === 'openai')).toHaveLength(2);
  });

  it('uses the cache for temperature-0 requests when the operator sets SERVER_CACHE=true', async () => {
    const { client, fake } = await startStack({ SERVER_CACHE: 'true' });
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello' }], temperature: 0 };
    await client.chat.completions.create(request);
    const repeat = await client.chat.completions.create(request).withResponse();
    expect(repeat.response.headers.get('x-groundwork-cache')).toBe('hit');
    expect(fake.requests.filter((recorded) => recorded.wire === 'openai')).toHaveLength(1);
  });

  it('streams through to the SDK with usage', async () => {
    const { client, fake } = await startStack();
    fake.enqueue({ type: 'answer', content: 'eins zwei drei', chunks: 3 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('eins zwei drei');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('refuses with 429 and Retry-After when Groundwork’s own rate limit is spent', async () => {
    const { client } = await startStack({ LLM_REQUESTS_PER_MINUTE: '1', LLM_RATE_LIMIT_MAX_WAIT_MS: '0' });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one' }] });
    const error = await refusal(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'two' }] }));
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses with 503 and Retry-After once the breaker opens, and maps upstream failures to 502', async () => {
    const { client, fake } = await startStack({ LLM_CIRCUIT_FAILURE_THRESHOLD: '2', LLM_CIRCUIT_RESET_MS: '30000' });
    fake.setHandler(() => ({ type: 'error', status: 500, message: 'upstream is down' }));
    const ask = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect((await refusal(ask())).status).toBe(502);
    expect((await refusal(ask())).status).toBe(502);
    const open = await refusal(ask());
    expect(open.status).toBe(503);
    expect(open.code).toBe('circuit_open');
    expect(Number(open.headers?.get('retry-after'))).toBeGreaterThanOrEqual(29);
  });

  it('answers the provider refusing the service’s own key with 502, never showing that key', async () => {
    const { client, fake } = await startStack();
    fake.enqueue({ type: 'error', status: 401, message: 'Incorrect API key provided: sk-upstream-secret-7c1e' });
    const error = await refusal(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
    expect(error.status).toBe(502);
    expect(JSON.stringify(error.error)).not.toContain('sk-upstream-secret-7c1e');
  });

  it('is ready with the migrations applied, and not ready once the database is gone', async () => {
    const { url, infrastructure } = await startStack();
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    await infrastructure.database.close();
    const gone = await fetch(`${url}/readyz`);
    expect(gone.status).toBe(503);
    expect(await gone.json()).toMatchObject({ ready: false, checks: [{ name: 'config', ok: true }, { name: 'database', ok: false }, {}] });
  });

  it('serves the LLM metrics the call path records', async () => {
    const { client, url } = await startStack();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/gen_ai_client_operation_duration_seconds_count\{[^}]*gen_ai_request_model="gpt-4o-mini"[^}]*\} 1/);
    expect(text).toMatch(/groundwork_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="200"\} 1/);
  });
});
