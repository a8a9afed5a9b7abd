import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { ManualClock } from '../../testing/manual-clock.js';
import { type JobsDatabase, sqliteJobsTarget } from '../jobs.test-helpers.js';
import { echoWord, keyTotal, translatePrompt } from './batch.test-helpers.js';

const translate = translatePrompt('submit-dead-translate');
/** One more than a step's retries: every run of the submit fails. */
const EVERY_RUN = Array.from({ length: 11 }, () => ({ status: 503, message: 'overloaded' }));

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());

describe('a batch whose submit fails on every run', () => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let keyId: string;
  /** The queue's clock: the submit's retries wait on it (about 10 s of backoff in all), so the test moves it on. */
  let clock: ManualClock;

  beforeEach(async () => {
    fake.reset();
    clock = new ManualClock(Date.now());
    fake.setHandler(echoWord);
    database = await sqliteJobsTarget.create();
    infra = await createInfrastructure({
      env: {
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-batch-submit-dead-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        ANTHROPIC_API_KEY: 'sk-ant-batch-submit-dead-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        ANTHROPIC_MODEL: 'claude-haiku-4-5',
        DATABASE_URL: database.url,
        LLM_CACHE: 'off',
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '200',
      },
      envFile: false,
      logger: silentLogger(),
      clock,
    });
    await infra.initDb();
    ({
      key: { id: keyId },
    } = await infra.tenants.repository.createKey({ name: 'customer-dead', totalBudgetUsd: 1 }));
  }, 20_000);

  /** Moves the clock on a quarter second at a time until `done` holds. */
  async function advanceUntil(done: () => Promise<boolean>): Promise<void> {
    await vi.waitFor(
      async () => {
        clock.advance(250);
        expect(await done()).toBe(true);
      },
      { timeout: 15_000, interval: 10 },
    );
  }

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  it('fails and releases the reservation when the provider shows it never created the batch', async () => {
    fake.batches.failCreate(...EVERY_RUN);
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-dead', pollIntervalMs: 0 });
    expect((await keyTotal(infra, keyId)).reservedUsd).toBeGreaterThan(0);
    const worker = infra.jobs.work({ prompts: [translate], pollIntervalMs: 20 });
    await advanceUntil(async () => (await infra.jobs.get(id))?.state === 'completed');
    await worker.stop();
    const batch = await infra.jobs.getBatch(id);
    if (batch === undefined) throw new Error(`no batch ${id}`);
    expect(fake.batches.ids).toHaveLength(0);
    expect(batch.state).toBe('failed');
    expect(batch.error).toContain('overloaded');
    expect(batch.error).toContain('on all 11 runs');
    expect(batch.items?.[0]?.error?.code).toBe('batch_failed');
    expect(await keyTotal(infra, keyId)).toEqual({ spentUsd: 0, reservedUsd: 0 });
  }, 20_000);

  it('keeps the reservation and names groundwork jobs retry when whether the provider has it cannot be told', async () => {
    fake.batches.failCreate(...EVERY_RUN);
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], {
      tenant: 'customer-dead',
      pollIntervalMs: 0,
      provider: 'anthropic',
    });
    const reserved = (await keyTotal(infra, keyId)).reservedUsd;
    const worker = infra.jobs.work({ prompts: [translate], pollIntervalMs: 20 });
    await advanceUntil(async () => (await infra.jobs.get(id))?.state === 'failed');
    await worker.stop();
    const batch = await infra.jobs.getBatch(id);
    expect(batch?.state).toBe('failed');
    expect(batch?.error).toContain(`groundwork jobs retry ${id}`);
    expect((await infra.jobs.get(id))?.attempts).toBe(11);
    expect((await keyTotal(infra, keyId)).reservedUsd).toBe(reserved);
  }, 20_000);
});
