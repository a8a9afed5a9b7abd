import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../../test/openai-spec.js';
import { redisUrl, uniqueName } from '../../../test/services.js';
import type { CacheStore } from '../../cache/cache-store.js';
import { EmbeddingCache } from '../../cache/embedding-cache.js';
import { EMBEDDING_VECTOR_CODEC } from '../../cache/embedding-vector-codec.js';
import { RedisCacheStore } from '../../cache/redis-cache-store.js';
import { parseEnvironment } from '../../config/parse-environment.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { createRedisClient } from '../../internal/redis.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import { silentLogger } from '../../observability/logger.js';
import { fakeEmbedding } from '../../testing/fake-embeddings.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { attemptsOf } from '../call-pipeline.js';
import { createLlmClient } from '../create-llm-client.js';
import { rejection, testConfig } from '../llm.test-helpers.js';
import { UnsupportedFieldsError } from '../unsupported-fields-error.js';
import { embeddingSpendOf } from './embedding-spend.js';
import { EmbeddingsUnsupportedError } from './embeddings-unsupported-error.js';
import { FixedEmbeddingLengthError } from './fixed-embedding-length-error.js';

let fake: FakeProviderServer;
const opened: Infrastructure[] = [];

beforeAll(async () => {
  fake = await startFakeProviderServer();
  // Compiles the spec once, outside any test's time budget.
  validateOpenAiSchema('CreateEmbeddingRequest', {});
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());
afterEach(async () => {
  for (const body of embeddingBodies()) expect(validateOpenAiSchema('CreateEmbeddingRequest', body)).toEqual([]);
  await Promise.all(opened.splice(0).map((infra) => infra.close()));
});

function embeddingBodies(): Array<Record<string, unknown>> {
  return fake.requests.filter((request) => request.path.endsWith('/embeddings')).map((request) => request.body as Record<string, unknown>);
}

async function open(env: Record<string, string> = {}, logger = silentLogger()): Promise<Infrastructure> {
  const infra = await createInfrastructure({
    env: {
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-embeddings-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      LLM_MAX_ATTEMPTS: '1',
      LLM_RETRY_MIN_MS: '1',
      LLM_RETRY_MAX_MS: '5',
      LLM_LEDGER_FLUSH_MS: '10',
      ...env,
    },
    envFile: false,
    logger,
  });
  opened.push(infra);
  return infra;
}

const texts = (count: number, tag = 'doc') => Array.from({ length: count }, (_, index) => `${tag} number ${index}`);

describe('infra.embed against the fake provider', () => {
  it('embeds one text or many: vectors in input order, dimensions, usage and cost; base64 on the wire', async () => {
    const infra = await open();
    const one = await infra.embed('hello world');
    expect(one.vectors).toHaveLength(1);
    expect(one.vectors[0]).toBeInstanceOf(Float32Array);
    expect(one.dimensions).toBe(1536);
    expect(one.vectors[0]).toEqual(fakeEmbedding('hello world', 1536));
    expect(one).toMatchObject({ provider: 'openai', model: 'text-embedding-3-small' });
    expect(one.usage.promptTokens).toBeGreaterThan(0);
    expect(one.costUsd).toBeCloseTo((one.usage.promptTokens * 0.02) / 1_000_000, 12);

    const many = await infra.embed(['a cat', 'a dog', 'a bird'], { dimensions: 256, format: 'number' });
    expect(many.dimensions).toBe(256);
    expect(Array.isArray(many.vectors[0])).toBe(true);
    expect(many.vectors[1]).toEqual(Array.from(fakeEmbedding('a dog', 256)));
    expect(embeddingBodies()[1]).toMatchObject({ model: 'text-embedding-3-small', encoding_format: 'base64', dimensions: 256 });
  });

  it('answers texts it embedded before from the cache, at no cost, and sends only the new ones', async () => {
    const infra = await open();
    const corpus = texts(20);
    const first = await infra.embed(corpus);
    expect(first.metadata.cachedInputs).toBe(0);
    const second = await infra.embed(corpus);
    expect(second.metadata).toMatchObject({ cachedInputs: 20, batches: 0 });
    expect(second.usage).toEqual({ promptTokens: 0, totalTokens: 0 });
    expect(second.costUsd).toBe(0);
    expect(second.vectors).toEqual(first.vectors);
    expect(fake.requests).toHaveLength(1);

    const grown = await infra.embed([...corpus, 'one more']);
    expect(grown.metadata.cachedInputs).toBe(20);
    expect(embeddingBodies()[1]?.['input']).toEqual(['one more']);

    await infra.embed(corpus, { cache: false });
    expect(fake.requests).toHaveLength(3);
  });

  it('sends an input repeated in one call once, and gives every copy its vector', async () => {
    const infra = await open();
    const result = await infra.embed(['same', 'other', 'same', 'same'], { cache: false });
    expect(embeddingBodies()[0]?.['input']).toEqual(['same', 'other']);
    expect(result.vectors[3]).toEqual(result.vectors[0]);
    expect(result.vectors[2]).toEqual(fakeEmbedding('same', 1536));
  });

  it('splits a large call into requests of at most 2048 inputs, run concurrently, keeping the input order', async () => {
    const infra = await open();
    const corpus = texts(4500, 'batch');
    const result = await infra.embed(corpus, { dimensions: 8 });
    expect(
      embeddingBodies()
        .map((body) => (body['input'] as string[]).length)
        .sort(),
    ).toEqual([2048, 2048, 404].sort());
    expect(result.metadata.batches).toBe(3);
    for (const index of [0, 2047, 2048, 4499]) expect(result.vectors[index]).toEqual(fakeEmbedding(corpus[index]!, 8));
  });

  it('retries a 429 and reconciles the counted tokens with the reported usage', async () => {
    const infra = await open({ LLM_MAX_ATTEMPTS: '3', LLM_TOKENS_PER_MINUTE: '100000' });
    fake.enqueue({ type: 'error', status: 429, retryAfterMs: 1 }, { type: 'answer', usage: { promptTokens: 7 } });
    const result = await infra.embed('retry me');
    expect(result.metadata.attempts.map((attempt) => attempt.outcome)).toEqual(['error', 'success']);
    expect(result.usage.promptTokens).toBe(7);
  });

  it('fails the whole call when a batch fails part-way, and keeps the answered batches in the cache', async () => {
    const infra = await open({ LLM_EMBEDDING_BATCH_CONCURRENCY: '1', LLM_CACHE_MAX_ENTRIES: '100000' });
    const corpus = texts(4500, 'partial');
    fake.enqueue(
      { type: 'answer', usage: { promptTokens: 1000, completionTokens: 0 } },
      { type: 'error', status: 400, message: 'input too long' },
    );
    const error = await rejection(infra.embed(corpus, { dimensions: 4 }));
    expect(error).toMatchObject({ status: 400 });
    expect(fake.requests).toHaveLength(2);
    // The error carries what the answered batch cost: $0.02 per million tokens of text-embedding-3-small.
    expect(embeddingSpendOf(error)).toEqual({ costUsd: expect.closeTo(0.00002, 12), totalTokens: 1000 });

    const retried = await infra.embed(corpus, { dimensions: 4 });
    expect(retried.metadata.cachedInputs).toBe(2048);
    expect(retried.vectors[4499]).toEqual(fakeEmbedding(corpus[4499]!, 4));
  });

  it('counts every request a failed call sent, the answered batches’ with the failed one’s retries, on its error and its ledger row', async () => {
    const infra = await open({ LLM_EMBEDDING_BATCH_CONCURRENCY: '1', LLM_MAX_ATTEMPTS: '2' });
    await infra.initDb();
    fake.enqueue({ type: 'answer' }, { type: 'error', status: 500 }, { type: 'error', status: 500 });
    const error = await rejection(infra.embed(texts(3000, 'counted'), { dimensions: 4 }));
    expect(fake.requests).toHaveLength(3);
    expect(attemptsOf(error)?.map((attempt) => attempt.outcome)).toEqual(['success', 'error', 'error']);
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['operation', 'outcome', 'attempts']).execute();
    expect(rows).toEqual([{ operation: 'embeddings', outcome: 'provider_server_error', attempts: 3 }]);
  });

  it('says a call that failed on its first batch spent nothing', async () => {
    const infra = await open();
    fake.enqueue({ type: 'error', status: 400, message: 'input too long' });
    const error = await rejection(infra.embed(['a text'], { dimensions: 4 }));
    expect(embeddingSpendOf(error)).toEqual({ costUsd: 0, totalTokens: 0 });
  });

  it('writes one ledger row per call with operation = embeddings', async () => {
    const infra = await open();
    await infra.initDb();
    await infra.embed(['ledger one', 'ledger two']);
    await infra.llm.complete({ messages: [{ role: 'user', content: 'hi' }] });
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['operation', 'model', 'outcome']).orderBy('id').execute();
    expect(rows).toEqual([
      { operation: 'embeddings', model: 'text-embedding-3-small', outcome: 'success' },
      { operation: 'chat', model: 'gpt-4o-mini', outcome: 'success' },
    ]);
    const metrics = await infra.metrics.registry.metrics();
    expect(metrics).toMatch(/gen_ai_client_operation_duration_seconds_count\{[^}]*gen_ai_operation_name="embeddings"/);
    expect(metrics).toMatch(/gen_ai_client_token_usage_count\{[^}]*gen_ai_operation_name="embeddings"[^}]*gen_ai_token_type="input"/);
    expect(metrics).not.toMatch(/gen_ai_client_token_usage_count\{[^}]*gen_ai_operation_name="embeddings"[^}]*gen_ai_token_type="output"/);
  });

  it('estimates the tokens a server that reports no usage was sent, bills them, marks them estimated, logs once and counts', async () => {
    const captured = captureLogger('info');
    const infra = await open(
      { LLM_PROVIDER: 'openai-compatible', OPENAI_MODEL: 'local-chat', LLM_EMBEDDING_MODEL: 'text-embedding-3-small' },
      captured.logger,
    );
    await infra.initDb();
    fake.setHandler(() => ({ type: 'answer', omitUsage: true }));
    const first = await infra.embed(['an unmetered text', 'and another one'], { cache: false });
    const second = await infra.embed('a third text to embed', { cache: false });
    expect(first.usage).toEqual({ promptTokens: expect.any(Number), totalTokens: first.usage.promptTokens, estimated: true });
    expect(first.usage.promptTokens).toBeGreaterThanOrEqual(6);
    expect(first.costUsd).toBeCloseTo((first.usage.promptTokens * 0.02) / 1_000_000, 12);
    expect(second.usage).toMatchObject({ estimated: true });
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['operation', 'prompt_tokens', 'cost_usd']).orderBy('id').execute();
    expect(rows.map((row) => [row.operation, Number(row.prompt_tokens), Number(row.cost_usd) > 0])).toEqual([
      ['embeddings', first.usage.promptTokens, true],
      ['embeddings', second.usage.promptTokens, true],
    ]);
    const warnings = captured.records.filter((record) => String(record['msg']).includes('reported no token usage'));
    expect(warnings).toEqual([expect.objectContaining({ provider: 'openai-compatible', model: 'text-embedding-3-small' })]);
    expect((await infra.metrics.estimatedUsage.get()).values).toMatchObject([
      { labels: { provider: 'openai-compatible', operation: 'embeddings' }, value: 2 },
    ]);

    fake.setHandler(() => ({ type: 'answer' }));
    const reported = await infra.embed('a metered text', { cache: false });
    expect(reported.usage).not.toHaveProperty('estimated');
  });

  it('falls back to a model of the same dimensions (an Azure embedding deployment)', async () => {
    const infra = await open({
      LLM_EMBEDDING_DIMENSIONS: '512',
      LLM_EMBEDDING_FALLBACKS: 'azure:embed-deploy',
      AZURE_OPENAI_API_KEY: 'azure-key',
      AZURE_OPENAI_ENDPOINT: fake.azureEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'chat-deploy',
      AZURE_OPENAI_EMBEDDING_DEPLOYMENT: 'embed-deploy',
    });
    fake.enqueue({ type: 'error', status: 503 });
    const result = await infra.embed('fall over');
    expect(result).toMatchObject({ provider: 'azure', dimensions: 512 });
    expect(fake.requests[1]).toMatchObject({
      wire: 'azure',
      deployment: 'embed-deploy',
      path: '/openai/deployments/embed-deploy/embeddings',
    });
  });

  it('refuses Anthropic with a typed error naming what to configure instead', async () => {
    const infra = await open({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl });
    const error = await rejection(infra.embed('no vectors here'));
    expect(error).toBeInstanceOf(EmbeddingsUnsupportedError);
    expect(error.message).toMatch(/LLM_EMBEDDING_PROVIDER/);
    expect(fake.requests).toHaveLength(0);
    const embedded = await infra.embed('vectors elsewhere', { provider: 'openai' });
    expect(embedded.provider).toBe('openai');
  });

  it('refuses a user Gemini cannot take before sending, or drops it logged and counted when told to', async () => {
    const gemini = { LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'AIza-embed-test', GEMINI_BASE_URL: fake.geminiBaseUrl };
    const refusing = await open(gemini);
    const refused = await rejection(refusing.embed('who asks', { user: 'end-user-7' }));
    expect(refused).toBeInstanceOf(UnsupportedFieldsError);
    expect(refused).toMatchObject({ code: 'llm_unsupported_params', param: 'user' });
    expect(fake.requests).toHaveLength(0);

    const dropping = await open({ ...gemini, LLM_DROP_UNSUPPORTED_PARAMS: 'true' });
    const embedded = await dropping.embed(['who asks', 'and again'], { user: 'end-user-7' });
    expect(embedded.vectors).toHaveLength(2);
    expect(fake.requests).toHaveLength(1);
    expect((await dropping.metrics.droppedParams.get()).values).toMatchObject([
      { labels: { provider: 'gemini', field: 'user' }, value: 1 },
    ]);
  });

  it('refuses a token array for Gemini before any request, naming its place in the call', async () => {
    const infra = await open({ LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'AIza-embed-test', GEMINI_BASE_URL: fake.geminiBaseUrl });
    const refused = await rejection(infra.embed([...texts(2100), [101, 102]]));
    expect(refused).toMatchObject({ code: 'llm_invalid_request' });
    expect(refused.message).toMatch(/input\[2100\] is a token array, which the provider "gemini" cannot embed/);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a length that a model of one fixed length cannot return, and lets its own length through unsent', async () => {
    const infra = await open();
    const refused = await rejection(infra.embed('hello', { model: 'text-embedding-ada-002', dimensions: 256 }));
    expect(refused).toBeInstanceOf(FixedEmbeddingLengthError);
    expect(refused).toMatchObject({ code: 'llm_invalid_request', param: 'dimensions', modelDimensions: 1536, requested: 256 });
    expect(refused.message).toMatch(/text-embedding-ada-002 returns 1536-dimension vectors only/);
    await expect(infra.embed('hello', { model: 'nomic-embed-text:latest', dimensions: 512 })).rejects.toMatchObject({
      code: 'llm_invalid_request',
      param: 'dimensions',
    });
    expect(fake.requests).toHaveLength(0);

    const own = await infra.embed('hello', { model: 'text-embedding-ada-002', dimensions: 1536 });
    expect(own.dimensions).toBe(1536);
    expect(embeddingBodies()[0]).not.toHaveProperty('dimensions');
  });

  it('refuses empty inputs before any request', async () => {
    const infra = await open();
    await expect(infra.embed([])).rejects.toMatchObject({ code: 'llm_invalid_request' });
    await expect(infra.embed(['ok', ''])).rejects.toMatchObject({ code: 'llm_invalid_request' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('embedding configuration', () => {
  const parse = (env: Record<string, string>) =>
    parseEnvironment({ DATABASE_URL: 'sqlite::memory:', ...env }, { azureTokenProvider: false, isTty: false });

  it('refuses a fallback that would change the vectors’ length, or whose length cannot be told', () => {
    const changed = parse({ LLM_EMBEDDING_FALLBACKS: 'openai:text-embedding-3-large' });
    expect(changed.config).toBeUndefined();
    expect(JSON.stringify(changed.errors)).toMatch(/3072-dimension vectors, text-embedding-3-small 1536/);
    const unknown = parse({ LLM_EMBEDDING_FALLBACKS: 'azure:my-deployment' });
    expect(JSON.stringify(unknown.errors)).toMatch(/set LLM_EMBEDDING_DIMENSIONS/);
  });

  it('accepts fallbacks that return the same length', () => {
    const shortened = parse({
      LLM_EMBEDDING_DIMENSIONS: '1024',
      LLM_EMBEDDING_FALLBACKS: 'openai:text-embedding-3-large,azure:emb',
      // Each fallback needs its provider's credentials, as an LLM_FALLBACKS entry does.
      OPENAI_API_KEY: 'sk-test-0000000000000',
      AZURE_OPENAI_API_KEY: 'azure-test-key',
      AZURE_OPENAI_ENDPOINT: 'https://example.openai.azure.com',
    });
    expect(shortened.errors).toEqual([]);
    expect(shortened.config?.llm.embeddings.fallbacks).toEqual([
      { provider: 'openai', model: 'text-embedding-3-large' },
      { provider: 'azure', model: 'emb' },
    ]);
    expect(parse({ LLM_EMBEDDING_FALLBACKS: 'openai:text-embedding-ada-002', OPENAI_API_KEY: 'sk-test-0000000000000' }).errors).toEqual([]);
  });
});

describe('the embedding cache over a store that fails', () => {
  it('falls through to the provider when Redis is down', async () => {
    const down = createRedisClient(
      { url: { reveal: () => 'redis://127.0.0.1:1' } as never, displayUrl: undefined, keyPrefix: 'x' },
      { commandTimeoutMs: 200 },
    );
    const store = new RedisCacheStore({
      client: down,
      keyPrefix: 'gw-down:',
      codec: EMBEDDING_VECTOR_CODEC,
    }) as unknown as CacheStore<Float32Array>;
    const config = testConfig({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-down', OPENAI_BASE_URL: fake.openaiBaseUrl });
    const client = createLlmClient(config, {
      logger: silentLogger(),
      embeddingCache: new EmbeddingCache({ store, ttlMs: 60_000, logger: silentLogger() }),
    });
    try {
      const first = await client.embed(['still works', 'without redis']);
      const second = await client.embed(['still works', 'without redis']);
      expect(second.vectors).toEqual(first.vectors);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await client.close();
      down.disconnect();
    }
  });

  it('shares vectors through a real Redis', async () => {
    const redis = createRedisClient({ url: { reveal: () => redisUrl() } as never, displayUrl: undefined, keyPrefix: 'x' });
    await new Promise((resolve) => redis.once('ready', resolve));
    const prefix = `${uniqueName('gw_embed')}:`;
    const cache = () =>
      new EmbeddingCache({
        store: new RedisCacheStore({ client: redis, keyPrefix: prefix, codec: EMBEDDING_VECTOR_CODEC }) as never,
        ttlMs: 60_000,
        logger: silentLogger(),
      });
    const config = testConfig({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-redis', OPENAI_BASE_URL: fake.openaiBaseUrl });
    const one = createLlmClient(config, { logger: silentLogger(), embeddingCache: cache() });
    const two = createLlmClient(config, { logger: silentLogger(), embeddingCache: cache() });
    try {
      const first = await one.embed(['shared across processes']);
      const second = await two.embed(['shared across processes']);
      expect(second.metadata.cachedInputs).toBe(1);
      expect(second.vectors).toEqual(first.vectors);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await Promise.all([one.close(), two.close()]);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
