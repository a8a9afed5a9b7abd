import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import type { Infrastructure } from '../infrastructure.js';
import { PriceBook } from '../llm/pricing.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import { silentLogger } from '../observability/logger.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import type { BudgetStore } from '../tenants/budget-store.js';
import { DatabaseBudgetStore } from '../tenants/database-budget-store.js';
import { KeyDirectory } from '../tenants/key-directory.js';
import { TenantAdmission, type TenantCaller } from '../tenants/tenant-admission.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';
import { createServer, type GroundworkServer } from './create-server.js';
import { createServiceBackend } from './infrastructure-backend.js';
import type { ServiceBackend } from './service-backend.js';
import { type ServiceTenants, tenantBackend } from './service-tenants.js';

/*
 * What `serve` charges a virtual key for chat, through the real facade (its ledger, its response
 * cache) in front of the fake provider: the key's budget must hold what the ledger records.
 */

let fake: FakeProviderServer;
let infra: Infrastructure;
let backend: ServiceBackend;
let server: GroundworkServer;
let baseURL: string;
let store: DatabaseBudgetStore;
let repository: TenantRepository;
let tenants: ServiceTenants;
let admission: TenantAdmission;
const log = captureLogger('debug');
/** While true, the budget store's settlements fail, as a database pool out of connections does. */
let settlesFail = false;

beforeAll(async () => {
  fake = await startFakeProviderServer();
  infra = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-upstream-settlement',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      LLM_MAX_ATTEMPTS: '1',
      // Priced under the name calls are sent with, as an alias or an Azure deployment is.
      LLM_PRICES: '{"metered-model":{"input":100,"output":1000}}',
      HOST: '127.0.0.1',
      PORT: '0',
    },
    envFile: false,
    logger: silentLogger(),
  });
  backend = createServiceBackend(infra);
  await backend.migrate?.();
  const db = groundworkTables(infra.db);
  store = new DatabaseBudgetStore(db);
  const failing: BudgetStore = {
    reserve: (request) => store.reserve(request),
    read: (counters, now) => store.read(counters, now),
    settle: (...settlement) => {
      if (!settlesFail) return store.settle(...settlement);
      return Promise.reject(Object.assign(new Error('timeout exceeded when trying to connect'), { code: 'ETIMEDOUT' }));
    },
  };
  repository = new TenantRepository(db);
  const directory = new KeyDirectory(repository, { ttlMs: 0 });
  const prices = new PriceBook(infra.config.llm.prices);
  admission = new TenantAdmission({
    budgets: failing,
    rateLimits: (rules) => new MemoryRateLimitStore(rules, { reportLevels: true }),
    prices,
    maxOutputTokens: 50,
    minOutputTokens: 50,
    maxWaitMs: 100,
    logger: log.logger,
    metrics: infra.metrics,
  });
  tenants = { resolve: (key) => directory.resolve(key), admission, prices };
  server = createServer(backend, infra.config.server, { logger: silentLogger(), metrics: infra.metrics, tenants });
  const address = await server.listen();
  baseURL = `http://127.0.0.1:${address.port}/v1`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await infra?.close();
  await fake?.close();
});

async function keyed(name: string) {
  const { key, plainKey } = await repository.createKey({ name, totalBudgetUsd: 1 });
  return { key, client: new OpenAI({ apiKey: plainKey.reveal(), baseURL, maxRetries: 0, timeout: 10_000 }) };
}

/** The key's settled and reserved spend, in USD. */
async function budgetOf(keyId: string) {
  const [state] = await store.read([`key:${keyId}:total`], Date.now());
  return { spentUsd: (state?.spentNano ?? 0) / 1e9, reservedUsd: (state?.reservedNano ?? 0) / 1e9 };
}

/** What the usage ledger records for the key, in USD. */
async function ledgerOf(keyId: string): Promise<number[]> {
  await infra.llm.flush();
  const rows = await infra.db.selectFrom('llm_usage').select('cost_usd').where('key_id', '=', keyId).orderBy('id').execute();
  return rows.map((row) => Number(row.cost_usd));
}

const ask = { model: 'metered-model', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('serve charging a virtual key for chat', () => {
  it('charges the cost the ledger records when the provider reports a model with no price, on JSON and streams', async () => {
    const { key, client } = await keyed('settle-reported-model');
    // The provider names the model behind the name it was called by, which the price table does not know.
    fake.enqueue({ type: 'answer', content: 'hello', model: 'Llama-3.3-70B-Instruct', usage: { promptTokens: 9, completionTokens: 3 } });
    const answer = await client.chat.completions.create(ask);
    expect(answer.model).toBe('Llama-3.3-70B-Instruct');
    // A dated name the price table matches by its model (o3: $2 and $8 per million) is priced by it, for the ledger as for the key.
    fake.enqueue({ type: 'answer', content: 'hello', chunks: 2, model: 'o3-2025-04-16', usage: { promptTokens: 9, completionTokens: 3 } });
    const stream = await client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
    for await (const _chunk of stream) {
      // drain
    }
    fake.enqueue({
      type: 'answer',
      content: 'hello',
      chunks: 2,
      model: 'Llama-3.3-70B-Instruct',
      usage: { promptTokens: 9, completionTokens: 3 },
    });
    const unpriced = await client.chat.completions.create({ ...ask, stream: true });
    for await (const _chunk of unpriced) {
      // drain
    }
    // 9 input tokens at $0.1 and 3 output tokens at $1 per thousand when unpriced; at o3's price when it is.
    const ledger = await ledgerOf(key.id);
    expect(ledger).toEqual([expect.closeTo(0.0039, 9), expect.closeTo(0.000042, 9), expect.closeTo(0.0039, 9)]);
    expect(await budgetOf(key.id)).toEqual({ spentUsd: expect.closeTo(0.0039 + 0.000042 + 0.0039, 9), reservedUsd: 0 });
  });

  it('charges nothing for a stream answered from the response cache, as for a JSON answer', async () => {
    const { key, client } = await keyed('settle-cached-stream');
    const cached = { ...ask, temperature: 0, messages: [{ role: 'user' as const, content: 'cache me' }] };
    const useCache = { headers: { 'X-Groundwork-Cache': 'use' } };
    fake.enqueue({ type: 'answer', content: 'from the provider', chunks: 2, usage: { promptTokens: 9, completionTokens: 3 } });
    for (let call = 0; call < 3; call++) {
      const stream = await client.chat.completions.create({ ...cached, stream: true }, useCache);
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('from the provider');
    }
    const json = await client.chat.completions.create(cached, useCache);
    expect(json.choices[0]?.message.content).toBe('from the provider');
    // One provider call; the ledger records the replays at $0, and so does the key's budget.
    expect(fake.requests.filter((request) => JSON.stringify(request.body).includes('cache me'))).toHaveLength(1);
    expect(await ledgerOf(key.id)).toEqual([expect.closeTo(0.0039, 9), 0, 0, 0]);
    expect(await budgetOf(key.id)).toEqual({ spentUsd: expect.closeTo(0.0039, 9), reservedUsd: 0 });
  });

  it('charges nothing for a replay of the response cache cut short by its caller', async () => {
    const { plainKey } = await repository.createKey({ name: 'settle-cached-cut', totalBudgetUsd: 1 });
    const caller = (await tenants.resolve(plainKey.reveal())) as TenantCaller;
    const request = { model: 'metered-model', temperature: 0, messages: [{ role: 'user' as const, content: 'cut the replay' }] };
    const options = { signal: new AbortController().signal, cache: 'use' as const };
    fake.enqueue({ type: 'answer', content: 'replayed', chunks: 2, usage: { promptTokens: 9, completionTokens: 3 } });
    const keyBackend = tenantBackend(backend, tenants, caller);
    for await (const _event of keyBackend.stream(request, options)) {
      // the first call fills the cache
    }
    for await (const event of keyBackend.stream(request, options)) {
      expect(event).toMatchObject({ type: 'start', cached: true });
      break; // the caller went away after the replay began
    }
    expect(await budgetOf(caller.key.id)).toEqual({ spentUsd: expect.closeTo(0.0039, 9), reservedUsd: 0 });
  });

  it('keeps cache entries per key with SERVER_CACHE_SCOPE=key, and shares them among every key with shared', async () => {
    const team = await repository.createTeam({ name: 'scope-setting-team' });
    const callers: TenantCaller[] = [];
    for (const name of ['scope-setting-a', 'scope-setting-b']) {
      const { plainKey } = await repository.createKey({ name, team: team.name, totalBudgetUsd: 1 });
      callers.push((await tenants.resolve(plainKey.reveal())) as TenantCaller);
    }
    const options = { signal: new AbortController().signal, cache: 'use' as const };
    const ask = (content: string) => ({ model: 'metered-model', temperature: 0, messages: [{ role: 'user' as const, content }] });
    const cachedFor = async (scope: 'key' | 'shared', content: string) => {
      const answers = [];
      for (const caller of callers)
        answers.push(await tenantBackend(backend, tenants, caller, undefined, undefined, scope).complete(ask(content), options));
      return answers.map((answer) => answer.cached);
    };
    // One team, but each key its own entries.
    expect(await cachedFor('key', 'a question per key')).toEqual([false, false]);
    expect(await cachedFor('key', 'a question per key')).toEqual([true, true]);
    expect(await cachedFor('shared', 'a question for all')).toEqual([false, true]);
  });

  it('answers a call its provider answered when recording its spend fails, and records the spend once the store answers', async () => {
    const { key, client } = await keyed('settle-store-fails');
    const failures = async () =>
      (await infra.metrics.storeFailures.get()).values.find((value) => value.labels.component === 'tenant_budget')?.value ?? 0;
    const failuresBefore = await failures();
    fake.enqueue({ type: 'answer', content: 'billed', usage: { promptTokens: 9, completionTokens: 3 } });
    settlesFail = true;
    const answer = await client.chat.completions.create(ask);
    expect(answer.choices[0]?.message.content).toBe('billed');
    fake.enqueue({ type: 'answer', content: 'billed too', chunks: 2, usage: { promptTokens: 9, completionTokens: 3 } });
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('billed too');
    // Logged by its code and counted; nothing of the key in the log.
    expect(await failures()).toBe(failuresBefore + 2);
    const failed = log.lines
      .join('')
      .split('\n')
      .filter((line) => line.includes('Settling a call on the budget store failed'));
    expect(failed).toHaveLength(2);
    expect(failed[0]).toContain('ETIMEDOUT');
    expect(failed.join('')).not.toContain(key.id);
    // Not charged yet, and both reservations still held: the settlements are kept...
    expect(admission.keptSettlements).toBe(2);
    expect((await budgetOf(key.id)).spentUsd).toBe(0);
    // ...and made before the next admission once the store answers again, which is charged as well.
    settlesFail = false;
    fake.enqueue({ type: 'answer', content: 'next', usage: { promptTokens: 9, completionTokens: 3 } });
    await client.chat.completions.create(ask);
    expect(admission.keptSettlements).toBe(0);
    expect(await ledgerOf(key.id)).toHaveLength(3);
    expect(await budgetOf(key.id)).toEqual({ spentUsd: expect.closeTo(3 * 0.0039, 9), reservedUsd: 0 });
  });

  it('answers a call whose admission rejects its settlement, and logs and counts the failure', async () => {
    const { key, plainKey } = await repository.createKey({ name: 'settle-rejected', totalBudgetUsd: 1 });
    const lost = Object.assign(new Error('the admission lost its store'), { code: 'ECONNRESET' });
    const rejecting: ServiceTenants = {
      ...tenants,
      admission: {
        checkStatus: (who) => admission.checkStatus(who),
        admit: async (...call) => {
          const admitted = await admission.admit(...call);
          return { maxTokens: admitted.maxTokens, reservedUsd: admitted.reservedUsd, settle: () => Promise.reject(lost) };
        },
      },
    };
    const served = captureLogger('debug');
    const other = createServer(backend, infra.config.server, { logger: served.logger, metrics: infra.metrics, tenants: rejecting });
    try {
      const address = await other.listen();
      const client = new OpenAI({ apiKey: plainKey.reveal(), baseURL: `http://127.0.0.1:${address.port}/v1`, maxRetries: 0 });
      const before =
        (await infra.metrics.storeFailures.get()).values.find((value) => value.labels.component === 'tenant_budget')?.value ?? 0;
      fake.enqueue({ type: 'answer', content: 'kept', usage: { promptTokens: 9, completionTokens: 3 } });
      expect((await client.chat.completions.create(ask)).choices[0]?.message.content).toBe('kept');
      fake.enqueue({ type: 'answer', content: 'kept', chunks: 2, usage: { promptTokens: 9, completionTokens: 3 } });
      let text = '';
      for await (const chunk of await client.chat.completions.create({ ...ask, stream: true }))
        text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('kept');
      // Embeddings are settled the same way.
      expect((await client.embeddings.create({ model: infra.config.llm.embeddings.model ?? '', input: 'kept' })).data).toHaveLength(1);
      const after =
        (await infra.metrics.storeFailures.get()).values.find((value) => value.labels.component === 'tenant_budget')?.value ?? 0;
      expect(after).toBe(before + 3);
      const failed = served.lines.filter((line) => line.includes('Settling an answered call'));
      expect(failed).toHaveLength(3);
      expect(failed[0]).toContain('ECONNRESET');
      expect(failed.join('')).not.toContain(plainKey.reveal());
      expect(failed.join('')).not.toContain(key.id);
    } finally {
      await other.close();
    }
  });
});
