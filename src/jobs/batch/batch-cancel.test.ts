import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { createLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { FULL_JOBS_TARGETS, type JobsDatabase } from '../jobs.test-helpers.js';
import { echoWord, keyTotal, translatePrompt, until } from './batch.test-helpers.js';

const translate = translatePrompt('cancel-translate');

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.setHandler(echoWord);
});

describe.each(FULL_JOBS_TARGETS)('cancelling a batch whose submit waits to run again, on $name', (target) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let keyId: string;

  beforeEach(async () => {
    database = await target.create();
    infra = await createInfrastructure({
      env: {
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-batch-cancel-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        ANTHROPIC_API_KEY: 'sk-ant-batch-cancel-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        ANTHROPIC_MODEL: 'claude-haiku-4-5',
        DATABASE_URL: database.url,
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'batch_cancel_test',
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '200',
      },
      envFile: false,
      logger: createLogger({ level: 'warn', format: 'json' }, { destination: { write: () => {} } }),
    });
    await infra.initDb();
    ({
      key: { id: keyId },
    } = await infra.tenants.repository.createKey({ name: 'customer-cancel', totalBudgetUsd: 1 }));
  }, 60_000);

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  const total = () => keyTotal(infra, keyId);

  /** Enqueues a batch whose first submit reaches the provider but loses its answer, and waits for the step to wait to run again. */
  const lostSubmit = async (options: { provider?: 'anthropic' } = {}) => {
    fake.batches.settings.manual = true;
    fake.batches.loseCreateAnswer();
    // The failed submit waits min(pollIntervalMs, 2 s) before it runs again: time enough to stop the worker first.
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], {
      pollIntervalMs: 1000,
      tenant: 'customer-cancel',
      ...options,
    });
    const worker = infra.jobs.work({ prompts: [translate] });
    await until(async () => (await infra.jobs.get(id))?.state === 'retry');
    await worker.stop();
    expect(fake.batches.ids).toHaveLength(1);
    return id;
  };

  it('cancels at the provider the batch a lost submit sent, which then ends cancelled, not “never submitted”', async () => {
    const id = await lostSubmit();
    const reserved = (await total()).reservedUsd;
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    expect(fake.requests.filter((request) => request.path.endsWith('/cancel'))).toHaveLength(1);
    // Still held: the provider may charge for what it answered before the cancel.
    expect((await total()).reservedUsd).toBe(reserved);
    const worker = infra.jobs.work({ prompts: [translate] });
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(fake.batches.ids).toHaveLength(1); // adopted, not sent again
    expect(batch.state).toBe('cancelled');
    expect(batch.providerBatchId).toBe(fake.batches.ids[0]);
    // As a provider does, the fake keeps what it answered before the cancel (the first item).
    expect(batch.items?.map((item) => item.ok)).toEqual([true, false]);
    expect(batch.items?.[1]?.error?.code).toBe('batch_cancelled');
    expect(batch.items?.[1]?.error?.message).not.toContain('before it was submitted');
    const settled = await total();
    expect(settled.reservedUsd).toBe(0);
    expect(settled.spentUsd).toBeGreaterThan(0);
  }, 60_000);

  it('answers false (ask again) when the provider’s listing fails, cancelling nothing', async () => {
    const id = await lostSubmit();
    fake.batches.failList({ status: 500 });
    expect(await infra.jobs.cancelBatch(id)).toBe(false);
    expect(fake.requests.some((request) => request.path.endsWith('/cancel'))).toBe(false);
    expect((await infra.jobs.getBatch(id))?.state).toBe('submitting');
    expect((await total()).reservedUsd).toBeGreaterThan(0);
    // Asked again once the listing works, it is cancelled at the provider.
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    expect(fake.requests.filter((request) => request.path.endsWith('/cancel'))).toHaveLength(1);
  });

  it('answers false on Anthropic, whose batches cannot be found, while the submit waits to run again', async () => {
    const id = await lostSubmit({ provider: 'anthropic' });
    expect(await infra.jobs.cancelBatch(id)).toBe(false);
    expect((await infra.jobs.getBatch(id))?.state).toBe('submitting');
    expect(fake.requests.some((request) => request.path.endsWith('/cancel'))).toBe(false);
  });

  it('cancels the submit job when the provider has no batch from the failed run', async () => {
    fake.batches.failCreate({ status: 500 });
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { pollIntervalMs: 60_000, tenant: 'customer-cancel' });
    const worker = infra.jobs.work({ prompts: [translate] });
    await until(async () => (await infra.jobs.get(id))?.state === 'retry');
    await worker.stop();
    expect(fake.batches.ids).toHaveLength(0);
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    const batch = await infra.jobs.getBatch(id);
    expect(batch?.state).toBe('cancelled');
    expect(batch?.items?.[0]?.error?.message).toContain('before it was submitted');
    expect((await total()).reservedUsd).toBe(0);
  });

  it('counts a submit cut by a stopping worker as an attempt, so the next run finds its batch rather than sending another', async () => {
    fake.batches.settings.manual = true;
    fake.batches.holdCreateAnswer();
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { pollIntervalMs: 50 });
    const first = infra.jobs.work({ prompts: [translate] });
    await until(async () => fake.batches.ids.length === 1);
    await first.stop(0); // a deploy while the provider holds the answer: the run is aborted
    expect(await infra.jobs.get(id)).toMatchObject({ state: 'retry', attempts: 1 });
    const second = infra.jobs.work({ prompts: [translate] });
    await until(async () => (await infra.jobs.getBatch(id))?.providerBatchId !== undefined);
    await second.stop();
    expect(fake.batches.ids).toHaveLength(1);
  });
});
