import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceBook } from '../../llm/pricing.js';
import { MemoryRateLimitStore } from '../../resilience/memory-rate-limit-store.js';
import { DatabaseBudgetStore } from '../../tenants/database-budget-store.js';
import { KeyDirectory } from '../../tenants/key-directory.js';
import { TenantAdmission } from '../../tenants/tenant-admission.js';
import { sqliteTarget, type TenantDatabase } from '../../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../../tenants/tenant-repository.js';
import { TestServiceBackend } from '../service-backend.test-helpers.js';
import { startTestServer, type TestServer } from '../test-server.test-helpers.js';
import type { ServiceResponses } from './service-responses.js';

/* Virtual keys and the Responses API: translated calls take the key's budget like chat; forwarded ones are refused. */

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
    retrieve: async () => {
      throw new Error('not used');
    },
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

  it('refuses a forwarded call with 403 before anything is sent, since its cost cannot be reserved', async () => {
    const { service, forwarded } = await serviceWith('forwarded');
    try {
      const { plainKey } = await repository.createKey({ name: 'responses-forwarded' });
      const answer = await post(service, plainKey.reveal());
      expect(answer.status).toBe(403);
      expect(await answer.json()).toMatchObject({ error: { code: 'responses_not_budgeted' } });
      expect(forwarded).toEqual([]);
    } finally {
      await service.close();
    }
  });
});
