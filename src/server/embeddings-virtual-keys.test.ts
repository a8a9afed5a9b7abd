import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import type { Infrastructure } from '../infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { DatabaseBudgetStore } from '../tenants/database-budget-store.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';
import type { GroundworkServer } from './create-server.js';
import { serveInfrastructure } from './service-stack.test-helpers.js';

/*
 * `POST /v1/embeddings` with virtual keys, through the official OpenAI SDK against a real `serve`
 * over the real facade in front of the fake provider: a key's embeddings take its admission (team
 * status, allowed models, rates, budgets) and are billed to it, as its chat calls are.
 */

const MODEL = 'text-embedding-3-small';
/** USD per million tokens: $0.001 a token. */
const PRICES = { [MODEL]: { input: 1000, output: 0 }, 'gpt-4o-mini': { input: 100, output: 1000 } };
/** "Hello world" is 2 tokens for the model's tokenizer: the reservation of one call. */
const HELLO_BOUND_USD = 0.002;

let fake: FakeProviderServer;
let infra: Infrastructure;
let server: GroundworkServer;
let baseURL: string;

beforeAll(async () => {
  fake = await startFakeProviderServer();
  infra = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-upstream-embeddings-keys',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_EMBEDDING_MODEL: MODEL,
      LLM_MAX_ATTEMPTS: '1',
      // One batch after the other: a later batch fails only once an earlier one was answered.
      LLM_EMBEDDING_BATCH_CONCURRENCY: '1',
      LLM_PRICES: JSON.stringify(PRICES),
      TENANT_KEY_CACHE_TTL_MS: '0',
      TENANT_BUDGET_MAX_WAIT_MS: '100',
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

beforeEach(() => fake.reset());

type KeySettings = { team?: string; totalBudgetUsd?: number; requestsPerMinute?: number; allowedModels?: string[] };

async function keyed(name: string, settings: KeySettings = {}) {
  const { key, plainKey } = await infra.tenants.repository.createKey({ name, ...settings });
  return { key, client: new OpenAI({ apiKey: plainKey.reveal(), baseURL, maxRetries: 0 }) };
}

/** A key's or team's total budget counter: settled and reserved spend, in USD. */
async function budgetOf(scope: 'key' | 'team', id: string) {
  const [state] = await new DatabaseBudgetStore(groundworkTables(infra.db)).read([`${scope}:${id}:total`], Date.now());
  return { spentUsd: (state?.spentNano ?? 0) / 1e9, reservedUsd: (state?.reservedNano ?? 0) / 1e9 };
}

const upstreamEmbeddings = () => fake.requests.filter((request) => request.path.endsWith('/embeddings'));

describe('POST /v1/embeddings with a virtual key', () => {
  it('bills the call to the key and its team: budget counters settled to its cost, ledger rows attributed', async () => {
    const team = await infra.tenants.repository.createTeam({ name: 'embedding-team', totalBudgetUsd: 1 });
    const { key, client } = await keyed('embedding-billed', { team: team.name, totalBudgetUsd: 1, requestsPerMinute: 10 });
    fake.enqueue({ type: 'answer', usage: { promptTokens: 7, completionTokens: 0 } });
    const { data, response } = await client.embeddings
      .create({ model: MODEL, input: ['Billed text', 'Another billed text'], encoding_format: 'float' })
      .withResponse();
    expect(data.data).toHaveLength(2);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    // 7 tokens at $0.001.
    expect(await budgetOf('key', key.id)).toEqual({ spentUsd: expect.closeTo(0.007, 9), reservedUsd: 0 });
    expect(await budgetOf('team', team.id)).toEqual({ spentUsd: expect.closeTo(0.007, 9), reservedUsd: 0 });
    await infra.llm.flush();
    const rows = await infra.db
      .selectFrom('llm_usage')
      .select(['key_id', 'team_id', 'operation', 'cost_usd'])
      .where('key_id', '=', key.id)
      .execute();
    expect(rows).toEqual([{ key_id: key.id, team_id: team.id, operation: 'embeddings', cost_usd: expect.closeTo(0.007, 9) }]);
  });

  it('settles an embedding answered from the cache at nothing', async () => {
    const { key, client } = await keyed('embedding-cached', { totalBudgetUsd: 1 });
    fake.enqueue({ type: 'answer', usage: { promptTokens: 3, completionTokens: 0 } });
    await client.embeddings.create({ model: MODEL, input: 'a text to keep', encoding_format: 'float' });
    expect(await budgetOf('key', key.id)).toEqual({ spentUsd: expect.closeTo(0.003, 9), reservedUsd: 0 });
    const { response } = await client.embeddings.create({ model: MODEL, input: 'a text to keep', encoding_format: 'float' }).withResponse();
    expect(response.headers.get('x-groundwork-cache')).toBe('hit');
    expect(upstreamEmbeddings()).toHaveLength(1);
    expect(await budgetOf('key', key.id)).toEqual({ spentUsd: expect.closeTo(0.003, 9), reservedUsd: 0 });
  });

  it('refunds the reservation of a call the upstream failed', async () => {
    const { key, client } = await keyed('embedding-failed', { totalBudgetUsd: 1 });
    fake.enqueue({ type: 'error', status: 500 });
    await expect(client.embeddings.create({ model: MODEL, input: 'Failing world' })).rejects.toMatchObject({ status: 502 });
    expect(upstreamEmbeddings()).toHaveLength(1);
    expect(await budgetOf('key', key.id)).toEqual({ spentUsd: 0, reservedUsd: 0 });
  });

  it('charges a call whose later batch failed what its answered batch cost, as its ledger row records it', async () => {
    const { key, client } = await keyed('embedding-partial', { totalBudgetUsd: 100 });
    // 2049 inputs: two batches (2048 inputs at most each); the first is answered, the second fails.
    const inputs = Array.from({ length: 2049 }, (_, index) => `text number ${index}`);
    fake.enqueue({ type: 'answer', usage: { promptTokens: 2048, completionTokens: 0 } });
    fake.enqueue({ type: 'error', status: 500 });
    await expect(client.embeddings.create({ model: MODEL, input: inputs, encoding_format: 'float' })).rejects.toMatchObject({
      status: 502,
    });
    expect(upstreamEmbeddings()).toHaveLength(2);
    await infra.llm.flush();
    const rows = await infra.db.selectFrom('llm_usage').select(['cost_usd', 'outcome']).where('key_id', '=', key.id).execute();
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]?.cost_usd)).toBeCloseTo(2.048, 9);
    expect(await budgetOf('key', key.id)).toEqual({ spentUsd: expect.closeTo(Number(rows[0]?.cost_usd), 9), reservedUsd: 0 });
  });

  it('refuses with insufficient_quota, as chat does, once the budget cannot cover the inputs, before anything is sent', async () => {
    const { key, client } = await keyed('embedding-frugal', { totalBudgetUsd: 0.005 });
    fake.enqueue({ type: 'answer', usage: { promptTokens: 4, completionTokens: 0 } });
    await client.embeddings.create({ model: MODEL, input: 'Hello world', encoding_format: 'float' });
    // $0.004 spent: the next call's bound ($0.002) no longer fits.
    const refused = await client.embeddings
      .create(
        { model: MODEL, input: 'Hello world', encoding_format: 'float' },
        {
          headers: { 'X-Groundwork-Cache': 'bypass' },
        },
      )
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    expect((refused as { headers: Headers }).headers.get('x-should-retry')).toBe('false');
    expect((refused as Error).message).toContain(`$${HELLO_BOUND_USD.toFixed(6)}`);
    const chat = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(chat).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    expect(upstreamEmbeddings()).toHaveLength(1);
    expect(await budgetOf('key', key.id)).toEqual({ spentUsd: expect.closeTo(0.004, 9), reservedUsd: 0 });
  });

  it("refuses a key whose team is disabled, with chat's refusal, before anything is sent", async () => {
    const team = await infra.tenants.repository.createTeam({ name: 'embedding-off-team' });
    const { client } = await keyed('embedding-off', { team: team.name });
    await infra.tenants.repository.updateTeam(team.name, { enabled: false });
    const embedding = await client.embeddings.create({ model: MODEL, input: 'Hello world' }).catch((error: unknown) => error);
    const chat = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(embedding).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect((embedding as Error).message).toContain("the key's team is disabled");
    expect(embedding).toMatchObject({ status: (chat as { status: number }).status, message: (chat as Error).message });
    expect(fake.requests).toEqual([]);
  });

  it("refuses a model the key may not use with chat's 403, before anything is sent", async () => {
    const { client } = await keyed('embedding-narrow', { allowedModels: ['gpt-4o-mini'] });
    const refused = await client.embeddings.create({ model: MODEL, input: 'Hello world' }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 403, code: 'model_not_allowed', param: 'model' });
    expect((refused as Error).message).toContain(`"${MODEL}"`);
    expect(upstreamEmbeddings()).toEqual([]);
  });

  it("answers 429 with Retry-After once the key is over its requests per minute, chat's and embeddings' calls counted together", async () => {
    const { client } = await keyed('embedding-slow', { requestsPerMinute: 2 });
    await client.embeddings.create({ model: MODEL, input: 'Slow world' });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const refused = await client.embeddings.create({ model: MODEL, input: 'Slow world' }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    const headers = (refused as { headers: Headers }).headers;
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(20);
    expect(headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(upstreamEmbeddings()).toHaveLength(1);
  });
});

describe('the cache among virtual keys (SERVER_CACHE_SCOPE=team, the default)', () => {
  const upstreamChats = () => fake.requests.filter((request) => request.path.endsWith('/chat/completions'));
  /** A temperature-0 chat call that asks for the cache, and whether it was answered from it. */
  async function cachedChat(client: OpenAI, content: string): Promise<string | null> {
    const { response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content }] }, { headers: { 'x-groundwork-cache': 'use' } })
      .withResponse();
    return response.headers.get('x-groundwork-cache');
  }
  async function cachedEmbedding(client: OpenAI, input: string): Promise<string | null> {
    const { response } = await client.embeddings.create({ model: MODEL, input, encoding_format: 'float' }).withResponse();
    return response.headers.get('x-groundwork-cache');
  }

  it("shares entries among one team's keys, never with another team's or a key without a team", async () => {
    const team = await infra.tenants.repository.createTeam({ name: 'scope-team' });
    const other = await infra.tenants.repository.createTeam({ name: 'scope-other-team' });
    const first = await keyed('scope-first', { team: team.name });
    const second = await keyed('scope-second', { team: team.name });
    const stranger = await keyed('scope-stranger', { team: other.name });
    const alone = await keyed('scope-alone');

    expect(await cachedEmbedding(first.client, 'a scoped text')).toBe('miss');
    expect(await cachedEmbedding(second.client, 'a scoped text')).toBe('hit');
    expect(await cachedEmbedding(stranger.client, 'a scoped text')).toBe('miss');
    expect(await cachedEmbedding(alone.client, 'a scoped text')).toBe('miss');
    expect(upstreamEmbeddings()).toHaveLength(3);

    const chats: Array<string | null> = [];
    for (const client of [first.client, second.client, stranger.client, alone.client])
      chats.push(await cachedChat(client, 'a scoped question'));
    expect(chats).toEqual(['miss', 'hit', 'miss', 'miss']);
    expect(upstreamChats()).toHaveLength(3);
  });
});
