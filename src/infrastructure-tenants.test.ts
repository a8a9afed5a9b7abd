import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from './create-infrastructure.js';
import { definePrompt } from './llm/prompt.js';
import { silentLogger } from './observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from './testing/index.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const greet = definePrompt({ name: 'tenant-greet', version: 1, template: 'Say hello to {{name}}.' });

async function open() {
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
    },
    envFile: false,
    logger: silentLogger(),
  });
  await infra.initDb();
  return infra;
}

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
      const rows = await infra.db.selectFrom('llm_usage').select(['key_id', 'cost_usd']).execute();
      expect(rows).toEqual([{ key_id: key.id, cost_usd: expect.closeTo(0.011, 9) }]);
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
