import { afterAll, beforeAll, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import { PriceBook } from '../llm/pricing.js';
import { silentLogger } from '../observability/logger.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import { DatabaseBudgetStore } from '../tenants/database-budget-store.js';
import { KeyDirectory } from '../tenants/key-directory.js';
import { TenantAdmission } from '../tenants/tenant-admission.js';
import { sqliteTarget, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { createServiceBackend } from './infrastructure-backend.js';
import type { ServiceEmbeddingRequest } from './service-backend.js';
import { TestServiceBackend } from './service-backend.test-helpers.js';
import { startTestServer, type TestServer } from './test-server.test-helpers.js';

/*
 * A virtual key's embeddings are reserved over every model the backend says the call may reach,
 * and settled from the answer's usage when the backend reports no cost.
 */

/** USD per million tokens: the fallback costs a hundred times the primary. */
const prices = new PriceBook({
  'cheap-embed': { input: 10, output: 0 },
  'dear-embed': { input: 1000, output: 0 },
  'pinned-embed': { input: 10, output: 0 },
});
/** 50 bytes, and no tokenizer known for these models: a bound of 50 tokens, $0.0005 on the primary, $0.05 on the fallback. */
const INPUT = 'x'.repeat(50);

let opened: TenantDatabase;
let repository: TenantRepository;
let service: TestServer;
const embedded: ServiceEmbeddingRequest[] = [];

beforeAll(async () => {
  opened = await sqliteTarget.open();
  repository = new TenantRepository(opened.database.db);
  const directory = new KeyDirectory(repository, { ttlMs: 0 });
  const admission = new TenantAdmission({
    budgets: new DatabaseBudgetStore(opened.database.db),
    rateLimits: (rules) => new MemoryRateLimitStore(rules),
    prices,
    maxWaitMs: 100,
  });
  const backend = new TestServiceBackend();
  Object.assign(backend, {
    embeddingReach: (request: ServiceEmbeddingRequest) =>
      request.model === 'cheap-embed'
        ? { model: 'cheap-embed', fallbackModels: ['dear-embed'] }
        : { model: request.model, fallbackModels: [] },
    embed: async (request: ServiceEmbeddingRequest) => {
      embedded.push(request);
      return {
        vectors: [new Float32Array([0.6, 0.8])],
        model: request.model,
        usage: { promptTokens: 10, totalTokens: 10 },
        cachedInputs: 0,
        attempts: 1,
      };
    },
  });
  service = await startTestServer({ backend, tenants: { resolve: (key) => directory.resolve(key), admission, prices } });
});

afterAll(async () => {
  await service?.close();
  await opened?.close();
});

function embed(apiKey: string, model: string): Promise<Response> {
  return fetch(`${service.url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model, input: INPUT, encoding_format: 'float' }),
  });
}

it('reserves at the dearest model the call may fall back to, and settles from usage at the model that answered', async () => {
  const { key, plainKey } = await repository.createKey({ name: 'reach', totalBudgetUsd: 0.01 });
  const refused = await embed(plainKey.reveal(), 'cheap-embed');
  expect(refused.status).toBe(429);
  expect(await refused.json()).toMatchObject({ error: { code: 'insufficient_quota', message: expect.stringContaining('$0.050000') } });
  expect(embedded).toEqual([]);

  // A call pinned to the model it names is reserved at that model's price alone.
  expect((await embed(plainKey.reveal(), 'pinned-embed')).status).toBe(200);
  expect(embedded.map((request) => request.model)).toEqual(['pinned-embed']);
  // The backend reported no cost: 10 tokens of usage at $10 per million.
  const [state] = await new DatabaseBudgetStore(opened.database.db).read([`key:${key.id}:total`], Date.now());
  expect(state).toMatchObject({ spentNano: 100_000, reservedNano: 0 });

  const unpriced = await embed(plainKey.reveal(), 'unpriced-embed');
  expect(await unpriced.json()).toMatchObject({ error: { code: 'model_not_priced' } });
  expect(embedded).toHaveLength(1);
});

it("takes the reach of an embeddings call from the configuration: the configured model's fallbacks, none for another model or length", async () => {
  const infra = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-reach-unused',
      LLM_EMBEDDING_MODEL: 'text-embedding-3-small',
      LLM_EMBEDDING_DIMENSIONS: '256',
      LLM_EMBEDDING_FALLBACKS: 'openai:text-embedding-3-large',
    },
    envFile: false,
    logger: silentLogger(),
  });
  try {
    const backend = createServiceBackend(infra);
    const inputs = ['x'];
    expect(backend.embeddingReach?.({ inputs, model: 'text-embedding-3-small' })).toEqual({
      model: 'text-embedding-3-small',
      fallbackModels: ['text-embedding-3-large'],
    });
    expect(backend.embeddingReach?.({ inputs })).toEqual({ model: 'text-embedding-3-small', fallbackModels: ['text-embedding-3-large'] });
    // Its own length keeps the fallbacks; another turns them off, as the call itself goes to the configured model alone.
    expect(backend.embeddingReach?.({ inputs, dimensions: 256 })).toEqual({
      model: 'text-embedding-3-small',
      fallbackModels: ['text-embedding-3-large'],
    });
    expect(backend.embeddingReach?.({ inputs, model: 'text-embedding-3-small', dimensions: 128 })).toEqual({
      model: 'text-embedding-3-small',
      fallbackModels: [],
    });
    expect(backend.embeddingReach?.({ inputs, model: 'text-embedding-ada-002' })).toEqual({
      model: 'text-embedding-ada-002',
      fallbackModels: [],
    });
  } finally {
    await infra.close();
  }
});
