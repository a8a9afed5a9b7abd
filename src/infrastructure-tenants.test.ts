import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createInfrastructure } from './create-infrastructure.js';
import { groundworkTables } from './db/groundwork-tables.js';
import type { Infrastructure } from './infrastructure.js';
import { definePrompt } from './llm/prompt.js';
import { defineTool } from './llm/tools/tool.js';
import { silentLogger } from './observability/logger.js';
import { DatabaseBudgetStore } from './tenants/database-budget-store.js';
import { type FakeProviderServer, startFakeProviderServer } from './testing/index.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const greet = definePrompt({ name: 'tenant-greet', version: 1, template: 'Say hello to {{name}}.' });

async function open(extra: Record<string, string> = {}) {
  const infra = await createInfrastructure({
    env: {
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test-tenants',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      LLM_MAX_ATTEMPTS: '1',
      LLM_LEDGER_FLUSH_MS: '10',
      LLM_PRICES: '{"metered-model":{"input":100,"output":1000}}',
      OPENAI_MODEL: 'metered-model',
      TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '40',
      TENANT_MIN_OUTPUT_TOKENS: '40',
      ...extra,
    },
    envFile: false,
    logger: silentLogger(),
  });
  await infra.initDb();
  return infra;
}

/** A key's total budget counter: settled and reserved spend, in USD. */
async function totalBudget(infra: Infrastructure, keyId: string): Promise<{ spentUsd: number; reservedUsd: number }> {
  const store = new DatabaseBudgetStore(groundworkTables(infra.db));
  const [state] = await store.read([`key:${keyId}:total`], Date.now());
  return { spentUsd: (state?.spentNano ?? 0) / 1e9, reservedUsd: (state?.reservedNano ?? 0) / 1e9 };
}

const weather = defineTool({
  description: 'The weather in a city.',
  parameters: z.object({ city: z.string() }),
  execute: ({ city }) => `sunny in ${city}`,
});

describe('executePrompt as a tenant', () => {
  it('applies the key’s budget in process, bounds the call, and bills it to the key', async () => {
    const infra = await open();
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'customer-42', totalBudgetUsd: 0.05 });
      fake.enqueue({ type: 'answer', content: 'Hello, Ada!', usage: { promptTokens: 10, completionTokens: 10 } });
      const response = await infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'customer-42' });
      expect(response.content).toBe('Hello, Ada!');
      expect(fake.requests.at(-1)?.body).toMatchObject({ max_completion_tokens: 40 });
      // Spent $0.011; the next call's worst case (24 prompt bytes, 40 output tokens: $0.0424) no longer fits in $0.05.
      await expect(infra.executePrompt(greet, { name: 'Bob' }, { tenant: 'customer-42' })).rejects.toMatchObject({
        code: 'insufficient_quota',
      });
      await infra.llm.flush();
      const rows = await infra.db.selectFrom('llm_usage').select(['key_id', 'cost_usd', 'outcome']).orderBy('id').execute();
      // The refused call is in the ledger too, with its refusal as the outcome and nothing spent.
      expect(rows).toEqual([
        { key_id: key.id, cost_usd: expect.closeTo(0.011, 9), outcome: 'success' },
        { key_id: key.id, cost_usd: 0, outcome: 'insufficient_quota' },
      ]);
    } finally {
      await infra.close();
    }
  });

  it('refuses a model the key may not use, and a tenant that does not exist', async () => {
    const infra = await open();
    try {
      await infra.tenants.repository.createKey({ name: 'narrow', allowedModels: ['other-model'] });
      await expect(infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'narrow' })).rejects.toMatchObject({ code: 'model_not_allowed' });
      await expect(infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'nobody' })).rejects.toMatchObject({ code: 'tenant_not_found' });
      expect(fake.requests).toHaveLength(0);
    } finally {
      await infra.close();
    }
  });
});

describe('a model group as a tenant', () => {
  it("reserves the dearest deployment's worst case and settles at the price of the one that answered", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-tenant-group-'));
    const routes = join(dir, 'routes.json');
    const deployment = (name: string, model: string) => ({
      name,
      provider: 'openai',
      model,
      baseUrl: fake.openaiBaseUrl,
      apiKeyEnv: 'OPENAI_API_KEY',
    });
    await writeFile(
      routes,
      JSON.stringify({
        groups: { 'chat-fast': { deployments: [deployment('cheap', 'metered-model'), deployment('dear', 'dear-model')] } },
      }),
    );
    const infra = await open({
      GROUNDWORK_ROUTES: routes,
      LLM_PRICES: '{"metered-model":{"input":100,"output":1000},"dear-model":{"input":1000,"output":10000}}',
    });
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'grouped', allowedModels: ['chat-fast'], totalBudgetUsd: 1 });
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      // The dear deployment fails; the cheap one answers once the reservation has been read.
      fake.setHandler(async (request) => {
        if ((request.body as { model: string }).model === 'dear-model') return { type: 'error', status: 500 };
        await held;
        return { type: 'answer', content: 'Hello, Ada!', usage: { promptTokens: 10, completionTokens: 10 } };
      });
      const call = infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'grouped', model: 'chat-fast' });
      // Awaited below; a refusal before then fails the test there, not as an unhandled rejection.
      call.catch(() => undefined);
      for (let waited = 0; fake.requests.every((request) => (request.body as { model: string }).model !== 'metered-model'); waited++) {
        if (waited > 500) throw new Error('the cheap deployment was never called');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // 'Say hello to Ada.' bounds the prompt at 17 + 4 + 3 tokens; 40 output tokens at the dear price.
      expect((await totalBudget(infra, key.id)).reservedUsd).toBeCloseTo((24 * 1000 + 40 * 10_000) / 1e6, 9);
      release();
      const response = await call;
      expect(response.metadata.deployment).toBe('cheap');
      expect(await totalBudget(infra, key.id)).toEqual({ spentUsd: expect.closeTo(0.011, 9), reservedUsd: 0 });
    } finally {
      await infra.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tool loops as a tenant', () => {
  it('admits and settles each model turn on its own, each sent within its reserved maximum', async () => {
    const infra = await open();
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'looping', totalBudgetUsd: 1 });
      fake.enqueue(
        { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }], usage: { promptTokens: 10, completionTokens: 5 } },
        { type: 'answer', content: 'Sunny in Oslo.', usage: { promptTokens: 30, completionTokens: 10 } },
      );
      const response = await infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'looping', tools: { weather } });
      expect(response.content).toBe('Sunny in Oslo.');
      expect(fake.requests.map((request) => (request.body as { max_completion_tokens?: number }).max_completion_tokens)).toEqual([40, 40]);
      // $0.006 for the first turn and $0.013 for the second, nothing left reserved.
      expect(await totalBudget(infra, key.id)).toEqual({ spentUsd: expect.closeTo(0.019, 9), reservedUsd: 0 });
    } finally {
      await infra.close();
    }
  });

  it('ends the loop with insufficient_quota when a later turn no longer fits, the turns before it settled', async () => {
    const infra = await open();
    try {
      // The first turn's worst case ($0.0424) fits; once it spent $0.025, the second's (a longer prompt) does not.
      const { key } = await infra.tenants.repository.createKey({ name: 'short-budget', totalBudgetUsd: 0.06 });
      let ran = 0;
      const counted = defineTool({
        parameters: z.object({ city: z.string() }),
        execute: () => {
          ran++;
          return 'sunny';
        },
      });
      fake.enqueue({
        type: 'answer',
        toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }],
        usage: { promptTokens: 50, completionTokens: 20 },
      });
      await expect(
        infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'short-budget', tools: { weather: counted } }),
      ).rejects.toMatchObject({
        code: 'insufficient_quota',
      });
      expect(ran).toBe(1);
      expect(fake.requests).toHaveLength(1);
      expect(await totalBudget(infra, key.id)).toEqual({ spentUsd: expect.closeTo(0.025, 9), reservedUsd: 0 });
      await infra.llm.flush();
      const rows = await infra.db.selectFrom('llm_usage').select(['key_id', 'cost_usd', 'outcome']).orderBy('id').execute();
      expect(rows).toEqual([
        { key_id: key.id, cost_usd: expect.closeTo(0.025, 9), outcome: 'continued' },
        { key_id: key.id, cost_usd: 0, outcome: 'insufficient_quota' },
      ]);
    } finally {
      await infra.close();
    }
  });

  it('takes a repair turn as its own admission', async () => {
    const infra = await open();
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'repairing', totalBudgetUsd: 1 });
      const structured = definePrompt({
        name: 'tenant-structured',
        version: 1,
        template: 'A word.',
        schema: z.object({ word: z.string() }),
      });
      fake.enqueue(
        { type: 'answer', content: 'not json', usage: { promptTokens: 10, completionTokens: 10 } },
        { type: 'answer', json: { word: 'hallo' }, usage: { promptTokens: 20, completionTokens: 10 } },
      );
      const response = await infra.executePrompt(structured, {}, { tenant: 'repairing', repairs: 1 });
      expect(response.data).toEqual({ word: 'hallo' });
      expect(await totalBudget(infra, key.id)).toEqual({ spentUsd: expect.closeTo(0.023, 9), reservedUsd: 0 });
    } finally {
      await infra.close();
    }
  });
});

describe('streamPrompt as a tenant', () => {
  it('reserves before the stream, sends it within the reserved maximum, and settles to its final usage', async () => {
    const infra = await open();
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'streaming', totalBudgetUsd: 1 });
      fake.enqueue({ type: 'answer', content: 'Hello, Ada!', usage: { promptTokens: 10, completionTokens: 10 } });
      let text = '';
      for await (const event of infra.streamPrompt(greet, { name: 'Ada' }, { tenant: 'streaming' }))
        if (event.type === 'delta') text += event.text;
      expect(text).toBe('Hello, Ada!');
      expect(fake.requests.at(-1)?.body).toMatchObject({ max_completion_tokens: 40, stream: true });
      expect(await totalBudget(infra, key.id)).toEqual({ spentUsd: expect.closeTo(0.011, 9), reservedUsd: 0 });
    } finally {
      await infra.close();
    }
  });

  it('refuses on the first read when the budget is spent, before anything is sent', async () => {
    const infra = await open();
    try {
      await infra.tenants.repository.createKey({ name: 'stream-broke', totalBudgetUsd: 0.01 });
      const stream = infra.streamPrompt(greet, { name: 'Ada' }, { tenant: 'stream-broke' });
      await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'insufficient_quota' });
      expect(fake.requests).toHaveLength(0);
    } finally {
      await infra.close();
    }
  });

  it('refunds a stream its caller aborts mid-answer down to what it used, and one that failed before it began entirely', async () => {
    const infra = await open();
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'stream-cut', totalBudgetUsd: 1 });
      fake.enqueue({ type: 'hang', afterChunks: 1 });
      const controller = new AbortController();
      const stream = infra.streamPrompt(greet, { name: 'Ada' }, { tenant: 'stream-cut', signal: controller.signal });
      await expect(
        (async () => {
          for await (const event of stream) if (event.type === 'delta') controller.abort();
        })(),
      ).rejects.toThrow();
      // Charged the prompt's estimate and the delivered text, not the $0.0424 reserved.
      await expect.poll(() => totalBudget(infra, key.id)).toMatchObject({ reservedUsd: 0 });
      const cut = await totalBudget(infra, key.id);
      expect(cut.spentUsd).toBeGreaterThan(0);
      expect(cut.spentUsd).toBeLessThan(0.01);

      fake.enqueue({ type: 'error', status: 500 });
      await expect(
        (async () => {
          for await (const _ of infra.streamPrompt(greet, { name: 'Ada' }, { tenant: 'stream-cut' })) {
            // nothing arrives
          }
        })(),
      ).rejects.toMatchObject({ status: 500 });
      expect(await totalBudget(infra, key.id)).toEqual({ spentUsd: cut.spentUsd, reservedUsd: 0 });
    } finally {
      await infra.close();
    }
  });
});

describe('embed as a tenant', () => {
  it('reserves the inputs’ token bound at the input price, settles to the cost, and refuses once spent', async () => {
    const infra = await open({
      LLM_PRICES: '{"metered-model":{"input":100,"output":1000},"text-embedding-3-small":{"input":1,"output":0}}',
    });
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'embedding', totalBudgetUsd: 0.00001 });
      const result = await infra.embed(['hello world'], { tenant: 'embedding' });
      expect(result.vectors).toHaveLength(1);
      const spent = await totalBudget(infra, key.id);
      expect(spent).toEqual({ spentUsd: expect.closeTo(result.costUsd, 9), reservedUsd: 0 });
      expect(result.costUsd).toBeGreaterThan(0);
      // $1 per million tokens: a text of 20 tokens no longer fits the $0.00001 budget less what the first call spent.
      await expect(infra.embed('word '.repeat(20), { tenant: 'embedding' })).rejects.toMatchObject({ code: 'insufficient_quota' });
      await infra.llm.flush();
      const rows = await infra.db.selectFrom('llm_usage').select(['key_id', 'operation']).execute();
      expect(rows).toEqual([{ key_id: key.id, operation: 'embeddings' }]);
    } finally {
      await infra.close();
    }
  });

  it('charges a call whose later batch failed what its answered batch cost, as its ledger row records it', async () => {
    const infra = await open({
      LLM_PRICES: '{"metered-model":{"input":100,"output":1000},"text-embedding-3-small":{"input":1000,"output":0}}',
      // One batch after the other: the second fails only once the first was answered.
      LLM_EMBEDDING_BATCH_CONCURRENCY: '1',
    });
    try {
      const { key } = await infra.tenants.repository.createKey({ name: 'embedding-partial', totalBudgetUsd: 100 });
      // 2049 inputs: two batches of at most 2048; the first is answered, the second fails.
      const inputs = Array.from({ length: 2049 }, (_, index) => `text number ${index}`);
      fake.enqueue({ type: 'answer', usage: { promptTokens: 2048, completionTokens: 0 } }, { type: 'error', status: 500 });
      await expect(infra.embed(inputs, { tenant: 'embedding-partial' })).rejects.toMatchObject({ status: 500 });
      await infra.llm.flush();
      const rows = await infra.db.selectFrom('llm_usage').select(['cost_usd']).where('key_id', '=', key.id).execute();
      expect(Number(rows[0]?.cost_usd)).toBeCloseTo(2.048, 9);
      expect(await totalBudget(infra, key.id)).toEqual({ spentUsd: expect.closeTo(2.048, 9), reservedUsd: 0 });
    } finally {
      await infra.close();
    }
  });

  it('refuses an embedding model the key may not use', async () => {
    const infra = await open();
    try {
      await infra.tenants.repository.createKey({ name: 'chat-only', allowedModels: ['metered-model'] });
      await expect(infra.embed('hello', { tenant: 'chat-only' })).rejects.toMatchObject({ code: 'model_not_allowed' });
    } finally {
      await infra.close();
    }
  });
});

describe('closing an instance with tenants', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('closes the budget store, and the sweep a settlement started, before the database', async () => {
    const infra = await open();
    const order: string[] = [];
    const closeStore = DatabaseBudgetStore.prototype.close;
    vi.spyOn(DatabaseBudgetStore.prototype, 'close').mockImplementation(async function (this: DatabaseBudgetStore) {
      await closeStore.call(this);
      order.push('budget store closed');
    });
    const closeDatabase = infra.database.close.bind(infra.database);
    vi.spyOn(infra.database, 'close').mockImplementation(async () => {
      order.push('database closing');
      await closeDatabase();
    });
    await infra.tenants.repository.createKey({ name: 'closing', totalBudgetUsd: 1 });
    fake.enqueue({ type: 'answer', content: 'Hello!', usage: { promptTokens: 1, completionTokens: 1 } });
    // The process's first settlement starts a sweep of ended counters in the background.
    await infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'closing' });
    await infra.close();
    expect(order).toEqual(['budget store closed', 'database closing']);
  });

  it('lets a tenant call in flight settle before the budget store closes', async () => {
    const infra = await open();
    const order: string[] = [];
    const closeStore = DatabaseBudgetStore.prototype.close;
    vi.spyOn(DatabaseBudgetStore.prototype, 'close').mockImplementation(async function (this: DatabaseBudgetStore) {
      order.push('budget store closing');
      await closeStore.call(this);
    });
    const settle = DatabaseBudgetStore.prototype.settle;
    vi.spyOn(DatabaseBudgetStore.prototype, 'settle').mockImplementation(async function (this: DatabaseBudgetStore, ...parts) {
      order.push('settling');
      await settle.apply(this, parts);
    });
    await infra.tenants.repository.createKey({ name: 'in-flight', totalBudgetUsd: 1 });
    fake.enqueue({ type: 'answer', content: 'Hello!', delayMs: 200, usage: { promptTokens: 1, completionTokens: 1 } });
    const call = infra.executePrompt(greet, { name: 'Ada' }, { tenant: 'in-flight' });
    await vi.waitFor(() => expect(fake.requests.length).toBeGreaterThan(0), { interval: 5 });
    const closed = infra.close();
    await expect(call).resolves.toMatchObject({ content: 'Hello!' });
    await closed;
    expect(order).toEqual(['settling', 'budget store closing']);
  });
});
