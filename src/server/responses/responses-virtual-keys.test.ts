import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import { groundworkTables } from '../../db/groundwork-tables.js';
import type { Infrastructure } from '../../infrastructure.js';
import { PriceBook } from '../../llm/pricing.js';
import { usageOfResponse } from '../../llm/responses/response-usage.js';
import { silentLogger } from '../../observability/logger.js';
import { MemoryRateLimitStore } from '../../resilience/memory-rate-limit-store.js';
import { DatabaseBudgetStore } from '../../tenants/database-budget-store.js';
import { KeyDirectory } from '../../tenants/key-directory.js';
import { TenantAdmission } from '../../tenants/tenant-admission.js';
import { sqliteTarget, type TenantDatabase } from '../../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../../tenants/tenant-repository.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import type { createServer } from '../create-server.js';
import { TestServiceBackend } from '../service-backend.test-helpers.js';
import { serveInfrastructure } from '../service-stack.test-helpers.js';
import { startTestServer, type TestServer } from '../test-server.test-helpers.js';
import type { ServiceResponses } from './service-responses.js';

/* Virtual keys and the Responses API: translated and forwarded calls alike take the key's admission and budget, like chat. */

const prices = new PriceBook({ 'metered-model': { input: 100, output: 1000 } });
let opened: TenantDatabase;
let repository: TenantRepository;

beforeAll(async () => {
  opened = await sqliteTarget.open();
  repository = new TenantRepository(opened.database.db);
});

afterAll(async () => {
  await opened?.close();
});

async function notUsed(): Promise<never> {
  throw new Error('not used');
}

async function serviceWith(mode: ServiceResponses['mode']): Promise<{ service: TestServer; forwarded: unknown[] }> {
  const directory = new KeyDirectory(repository, { ttlMs: 0 });
  const admission = new TenantAdmission({
    budgets: new DatabaseBudgetStore(opened.database.db),
    rateLimits: (rules) => new MemoryRateLimitStore(rules),
    prices,
    maxOutputTokens: 50,
    minOutputTokens: 50,
    maxWaitMs: 100,
  });
  const forwarded: unknown[] = [];
  const backend = new TestServiceBackend();
  const responses: ServiceResponses = {
    mode,
    provider: mode === 'forwarded' ? 'openai' : 'anthropic',
    forward: async (body) => {
      forwarded.push(body);
      throw new Error('a forwarded call must not be made for a virtual key');
    },
    retrieve: notUsed,
    cancel: notUsed,
    delete: notUsed,
    listInputItems: notUsed,
  };
  Object.assign(backend, { responses });
  const service = await startTestServer({ backend, tenants: { resolve: (key) => directory.resolve(key), admission, prices } });
  return { service, forwarded };
}

function post(service: TestServer, key: string): Promise<Response> {
  return fetch(`${service.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'metered-model', input: 'hi', store: false }),
  });
}

describe('virtual keys on /v1/responses', () => {
  it('translates through the key’s admission, bounding the call like a chat call', async () => {
    const { service } = await serviceWith('translated');
    try {
      const { plainKey } = await repository.createKey({ name: 'responses-translated' });
      const answer = await post(service, plainKey.reveal());
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ object: 'response', status: 'completed' });
      // Admission sent the call with the output maximum it reserved for.
      expect(service.backend.calls[0]?.request).toMatchObject({ model: 'metered-model', maxTokens: 50 });
    } finally {
      await service.close();
    }
  });

  it('refuses a forwarded call to a model the key may not use, or whose cost cannot be bounded, before anything is sent', async () => {
    const { service, forwarded } = await serviceWith('forwarded');
    try {
      const { plainKey } = await repository.createKey({ name: 'responses-forwarded', allowedModels: ['other-model'] });
      const answer = await post(service, plainKey.reveal());
      expect(answer.status).toBe(403);
      expect(await answer.json()).toMatchObject({
        error: { code: 'model_not_allowed', message: expect.stringContaining('metered-model') },
      });
      const { plainKey: open } = await repository.createKey({ name: 'responses-unbounded' });
      const chained = await fetch(`${service.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${open.reveal()}` },
        body: JSON.stringify({ model: 'metered-model', input: 'and then?', previous_response_id: 'resp_1' }),
      });
      expect(chained.status).toBe(403);
      expect(await chained.json()).toMatchObject({
        error: { code: 'responses_not_budgeted', message: expect.stringContaining('previous_response_id') },
      });
      // A stored prompt expands at the provider into instructions of any length.
      const prompted = await fetch(`${service.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${open.reveal()}` },
        body: JSON.stringify({ model: 'metered-model', input: 'hi', prompt: { id: 'pmpt_123', version: '2' } }),
      });
      expect(prompted.status).toBe(403);
      expect(await prompted.json()).toMatchObject({
        error: { code: 'responses_not_budgeted', message: expect.stringContaining('prompt') },
      });
      expect(forwarded).toEqual([]);
    } finally {
      await service.close();
    }
  });
});

describe('forwarded Responses with a virtual key, through the openai SDK', () => {
  let fake: FakeProviderServer;
  let infra: Infrastructure;
  let server: Awaited<ReturnType<typeof createServer>>;
  let baseURL: string;

  beforeAll(async () => {
    fake = await startFakeProviderServer();
    infra = await createInfrastructure({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-upstream-responses',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        LLM_MAX_ATTEMPTS: '1',
        LLM_PRICES: '{"metered-model":{"input":100,"output":1000,"cachedInput":50}}',
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '50',
        GROUNDWORK_VIRTUAL_KEYS: 'true',
      },
      envFile: false,
      logger: silentLogger(),
    });
    ({ server, baseUrl: baseURL } = await serveInfrastructure(infra, { virtualKeys: true }));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await infra?.close();
    await fake?.close();
  });

  /** The price table `serve` runs with. */
  const servedPrices = new PriceBook({ 'metered-model': { input: 100, output: 1000, cachedInput: 50 } });

  async function keyed(name: string, settings: { totalBudgetUsd?: number; requestsPerMinute?: number } = {}) {
    const { key, plainKey } = await infra.tenants.repository.createKey({ name, ...settings });
    return { key, client: new OpenAI({ apiKey: plainKey.reveal(), baseURL, maxRetries: 0 }) };
  }

  async function budgetOf(keyId: string) {
    const [state] = await new DatabaseBudgetStore(groundworkTables(infra.db)).read([`key:${keyId}:total`], Date.now());
    return { spentUsd: (state?.spentNano ?? 0) / 1e9, reservedUsd: (state?.reservedNano ?? 0) / 1e9 };
  }

  const upstreamBodies = () =>
    fake.requests.filter((request) => /\/responses$/.test(request.path)).map((request) => request.body as Record<string, unknown>);

  it('admits responses.create like chat: bounded, settled to its usage, billed to the key, with its rate-limit headers', async () => {
    const { key, client } = await keyed('responses-sdk-create', { totalBudgetUsd: 1, requestsPerMinute: 10 });
    fake.enqueue({ type: 'answer', content: 'Hallo Welt', usage: { promptTokens: 9, completionTokens: 3 } });
    const { data: response, response: raw } = await client.responses
      .create({ model: 'metered-model', instructions: 'Translate to German.', input: 'Hello world' })
      .withResponse();
    expect(response.output_text).toBe('Hallo Welt');
    expect(upstreamBodies().at(-1)).toMatchObject({ model: 'metered-model', max_output_tokens: 50 });
    expect(raw.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(raw.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    // 9 input tokens at $0.1 and 3 output tokens at $1 per thousand.
    expect(await budgetOf(key.id)).toEqual({ spentUsd: expect.closeTo(0.0039, 9), reservedUsd: 0 });
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['key_id', 'operation']).where('key_id', '=', key.id).execute();
    expect(rows).toEqual([{ key_id: key.id, operation: 'responses' }]);
  });

  it('keeps the caller’s own max_output_tokens, and settles a stream on its response.completed usage', async () => {
    const { key, client } = await keyed('responses-sdk-stream', { totalBudgetUsd: 1 });
    fake.enqueue({ type: 'answer', content: 'Guten Tag', chunks: 3, usage: { promptTokens: 4, completionTokens: 6 } });
    const stream = client.responses.stream({ model: 'metered-model', input: 'Good day', max_output_tokens: 20 });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Guten Tag');
    expect(upstreamBodies().at(-1)).toMatchObject({ max_output_tokens: 20, stream: true });
    expect(await budgetOf(key.id)).toEqual({ spentUsd: expect.closeTo(0.0064, 9), reservedUsd: 0 });
  });

  it('charges cached input tokens at the cached price, as the ledger does, whole and streamed', async () => {
    const { key, client } = await keyed('responses-sdk-cached', { totalBudgetUsd: 10 });
    const usage = { promptTokens: 1000, completionTokens: 10, cachedPromptTokens: 800, reasoningTokens: 4 };
    fake.enqueue({ type: 'answer', content: 'from the prompt cache', usage });
    const whole = await client.responses.create({ model: 'metered-model', input: 'Hello' });
    const wholeCost = servedPrices.cost('metered-model', usageOfResponse(whole)!);
    // 200 fresh input tokens at $0.1, 800 cached at $0.05 and 10 output tokens at $1 per thousand.
    expect(wholeCost).toBeCloseTo(0.07, 9);
    expect(await budgetOf(key.id)).toEqual({ spentUsd: expect.closeTo(wholeCost, 9), reservedUsd: 0 });
    fake.enqueue({ type: 'answer', content: 'from the prompt cache', chunks: 2, usage });
    const streamed = await client.responses.stream({ model: 'metered-model', input: 'Hello' }).finalResponse();
    const streamedCost = servedPrices.cost('metered-model', usageOfResponse(streamed)!);
    expect(await budgetOf(key.id)).toEqual({ spentUsd: expect.closeTo(wholeCost + streamedCost, 9), reservedUsd: 0 });
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['cost_usd']).where('key_id', '=', key.id).execute();
    expect(rows.map((row) => Number(row.cost_usd))).toEqual([expect.closeTo(wholeCost, 9), expect.closeTo(streamedCost, 9)]);
  });

  it('refunds a call the upstream failed, and refuses with insufficient_quota once the budget is spent', async () => {
    const { key, client } = await keyed('responses-sdk-spent', { totalBudgetUsd: 0.06 });
    fake.enqueue({ type: 'error', status: 500 });
    await expect(client.responses.create({ model: 'metered-model', input: 'Hello' })).rejects.toMatchObject({ status: 502 });
    expect(await budgetOf(key.id)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    fake.enqueue({ type: 'answer', content: 'x', usage: { promptTokens: 10, completionTokens: 40 } });
    await client.responses.create({ model: 'metered-model', input: 'Hello' });
    const sent = upstreamBodies().length;
    // $0.041 spent: the next call's worst case (its input bound and 50 output tokens) no longer fits.
    await expect(client.responses.create({ model: 'metered-model', input: 'Hello' })).rejects.toMatchObject({
      status: 429,
      code: 'insufficient_quota',
    });
    expect(upstreamBodies()).toHaveLength(sent);
  });
});
