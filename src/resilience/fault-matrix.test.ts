import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../llm/create-llm-client.js';
import { providerEnv, testConfig } from '../llm/llm.test-helpers.js';
import type { LlmClient } from '../llm/llm-client-types.js';
import type { FakeBehaviour } from '../testing/fake-behaviour.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';
import { createResiliencePipeline } from './create-resilience-pipeline.js';
import { logger } from './resilience.test-helpers.js';
import { attemptsOf, type ResiliencePipeline } from './resilience-pipeline.js';

/*
 * The fault matrix over real HTTP: the real LLM client and the resilience pipeline against the
 * fake provider server, one provider fault at a time, with short delays so the matrix runs fast.
 * The client and the fake server share one event loop, so the attempt timeout stays long enough
 * that a busy machine never turns a slow answer into a retry; only the test whose subject is a
 * hang shortens it.
 */
let fake: FakeProviderServer;
let pipeline: ResiliencePipeline;
let client: LlmClient;

const settings = {
  LLM_MAX_ATTEMPTS: '3',
  LLM_RETRY_MIN_MS: '20',
  LLM_RETRY_MAX_MS: '80',
  LLM_RETRY_AFTER_MAX_MS: '2000',
  LLM_TIMEOUT_MS: '10000',
  LLM_DEADLINE_MS: '10000',
  LLM_CACHE: 'off',
  LLM_LEDGER: 'false',
};

function start(extra: Record<string, string> = {}): void {
  const config = testConfig({ ...providerEnv('openai', fake), ...settings, ...extra });
  pipeline = createResiliencePipeline(config.resilience, { logger });
  client = createLlmClient(config, { logger, pipeline });
}

async function call(): Promise<{
  ok: boolean;
  error?: { code: string };
  attempts: Array<{ outcome: string; errorCode?: string; waitedMs?: number }>;
  ms: number;
}> {
  const started = performance.now();
  try {
    const response = await client.complete({ messages: [{ role: 'user', content: 'hi' }] });
    return { ok: true, attempts: response.metadata.attempts, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error: error as { code: string }, attempts: attemptsOf(error) ?? [], ms: performance.now() - started };
  }
}

beforeAll(async () => {
  fake = await new FakeProviderServer().start();
  // One call on each wire the matrix uses first, so that the hang test's short attempt timeout
  // does not also pay for loading an HTTP stack (undici for OpenAI, the Anthropic SDK's fetch)
  // and opening the first connection on a busy machine.
  for (const warmUp of [{}, providerEnv('anthropic', fake)]) {
    start(warmUp);
    await call();
    await client.close();
    await pipeline.close();
  }
  fake.requests.length = 0;
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await client.close();
  await pipeline.close();
  fake.requests.length = 0;
  expect(fake.queued).toBe(0);
});

const thrice = (behaviour: FakeBehaviour): FakeBehaviour[] => [behaviour, behaviour, behaviour];

describe('fault matrix over real HTTP', () => {
  it('429 with Retry-After: 1 waits one second, then succeeds', async () => {
    start();
    fake.enqueue({ type: 'error', status: 429, retryAfter: 1 }, { type: 'answer', content: 'ok' });
    const result = await call();
    expect(result.ok).toBe(true);
    expect(fake.requests).toHaveLength(2);
    expect(result.ms).toBeGreaterThanOrEqual(1000);
    expect(result.attempts).toEqual([
      expect.objectContaining({ outcome: 'error', errorCode: 'provider_rate_limited' }),
      expect.objectContaining({ outcome: 'success', waitedMs: 1000 }),
    ]);
  });

  it('429 with Retry-After beyond the cap fails at once, saying when', async () => {
    start();
    fake.enqueue({ type: 'error', status: 429, retryAfter: 3600 });
    const result = await call();
    expect(result.error).toMatchObject({ code: 'retry_after_too_long', retryAfterMs: 3_600_000 });
    expect(fake.requests).toHaveLength(1);
    expect(result.ms).toBeLessThan(1000);
  });

  it.each([500, 502, 503])('%i three times: three attempts with backoff, then the server error', async (status) => {
    start();
    fake.enqueue(...thrice({ type: 'error', status }));
    const result = await call();
    expect(result.error).toMatchObject({ code: 'provider_server_error', status });
    expect(fake.requests).toHaveLength(3);
    expect(result.attempts.map((attempt) => attempt.outcome)).toEqual(['error', 'error', 'error']);
    for (const attempt of result.attempts.slice(1)) {
      expect(attempt.waitedMs).toBeGreaterThanOrEqual(20);
      expect(attempt.waitedMs).toBeLessThanOrEqual(80);
    }
  });

  it('503 once, then an answer: two attempts, success', async () => {
    start();
    fake.enqueue({ type: 'error', status: 503 }, { type: 'answer', content: 'ok' });
    expect((await call()).ok).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    [400, 'provider_bad_request'],
    [401, 'provider_authentication'],
  ])('%i: one attempt, not retried', async (status, code) => {
    start();
    fake.enqueue({ type: 'error', status });
    const result = await call();
    expect(result.error).toMatchObject({ code });
    expect(fake.requests).toHaveLength(1);
  });

  it('no answer: each attempt times out after LLM_TIMEOUT_MS, three attempts, then a timeout error', async () => {
    start({ LLM_TIMEOUT_MS: '300' });
    fake.enqueue(...thrice({ type: 'hang' }));
    const result = await call();
    expect(result.error).toMatchObject({ code: 'provider_timeout' });
    expect(fake.requests).toHaveLength(3);
    expect(result.ms).toBeGreaterThanOrEqual(900);
    expect(result.ms).toBeLessThan(3000);
  });

  it('connection reset three times: three attempts, then a connection error', async () => {
    start();
    fake.enqueue(...thrice({ type: 'reset' }));
    const result = await call();
    expect(result.error).toMatchObject({ code: 'provider_connection' });
    expect(fake.requests).toHaveLength(3);
  });

  it('malformed body three times: three attempts, then a malformed-response error', async () => {
    start();
    fake.enqueue(...thrice({ type: 'malformed' }));
    const result = await call();
    expect(result.error).toMatchObject({ code: 'provider_malformed_response' });
    expect(fake.requests).toHaveLength(3);
  });

  it('five 503s open the circuit: the next call fails fast and never reaches the server', async () => {
    start({ LLM_MAX_ATTEMPTS: '1' });
    fake.enqueue(...thrice({ type: 'error', status: 503 }), { type: 'error', status: 503 }, { type: 'error', status: 503 });
    for (let index = 0; index < 5; index++) await call();
    const result = await call();
    expect(result.error).toMatchObject({ code: 'circuit_open', provider: 'openai', model: 'gpt-4o-mini' });
    expect(fake.requests).toHaveLength(5);
    expect((await pipeline.getState('openai', 'gpt-4o-mini')).state).toBe('open');
  });

  it('a failing primary falls back to the next target, and metadata names who answered', async () => {
    start({
      ...providerEnv('anthropic', fake),
      LLM_PROVIDER: 'openai',
      LLM_MAX_ATTEMPTS: '1',
      LLM_FALLBACKS: 'anthropic:claude-3-5-haiku-latest',
    });
    fake.enqueue({ type: 'error', status: 503 }, { type: 'answer', content: 'from the fallback' });
    const response = await client.complete({ messages: [{ role: 'user', content: 'hi' }] });
    expect(response.content).toBe('from the fallback');
    expect(response.metadata).toMatchObject({ provider: 'anthropic', model: 'claude-3-5-haiku-latest' });
    expect(response.metadata.attempts.map((attempt) => [attempt.provider, attempt.outcome])).toEqual([
      ['openai', 'error'],
      ['anthropic', 'success'],
    ]);
    expect(fake.requests.map((request) => request.wire)).toEqual(['openai', 'anthropic']);
  });
});
