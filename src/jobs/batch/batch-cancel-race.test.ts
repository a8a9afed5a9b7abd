import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { FULL_JOBS_TARGETS, type JobsDatabase } from '../jobs.test-helpers.js';
import { PgBossJobEngine } from '../pg-boss-job-engine.js';
import { TableJobEngine } from '../table-job-engine.js';
import { echoWord, keyTotal, translatePrompt, until } from './batch.test-helpers.js';
import { OpenAiBatchProvider } from './openai-batch-provider.js';

const translate = translatePrompt('cancel-race-translate');

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());

describe.each(FULL_JOBS_TARGETS)('cancelling a batch as a worker claims its submit, on $name', (target) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let keyId: string;
  /** Lets a held submit go on (so that a failed test still closes). */
  let open = () => {};

  beforeEach(async () => {
    fake.reset();
    fake.setHandler(echoWord);
    database = await target.create();
    infra = await createInfrastructure({
      env: {
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-batch-cancel-race-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        DATABASE_URL: database.url,
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'batch_cancel_race_test',
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '200',
      },
      envFile: false,
      logger: silentLogger(),
    });
    await infra.initDb();
    ({
      key: { id: keyId },
    } = await infra.tenants.repository.createKey({ name: 'customer-race', totalBudgetUsd: 1 }));
  }, 60_000);

  afterEach(async () => {
    open();
    vi.restoreAllMocks();
    await infra.close();
    await database.drop();
  });

  it('answers false and leaves the claimed submit to run: its batch is polled to its end and settled', async () => {
    let entered = false;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const submit = OpenAiBatchProvider.prototype.submit;
    vi.spyOn(OpenAiBatchProvider.prototype, 'submit').mockImplementation(async function (this: OpenAiBatchProvider, ...args) {
      entered = true;
      await gate;
      return submit.apply(this, args);
    });
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-race', pollIntervalMs: 50 });
    const reserved = (await keyTotal(infra, keyId)).reservedUsd;
    expect(reserved).toBeGreaterThan(0);
    let worker: ReturnType<Infrastructure['jobs']['work']> | undefined;
    let stale = true;
    // A worker claims the submit between cancelBatch's read of it (still waiting) and its cancel.
    const Engine = target.engine === 'pg-boss' ? PgBossJobEngine : TableJobEngine;
    const get = Engine.prototype.get;
    vi.spyOn(Engine.prototype, 'get').mockImplementation(async function (this: TableJobEngine & PgBossJobEngine, jobId: string) {
      const read = await get.call(this, jobId);
      if (stale && jobId === id && read?.state === 'created') {
        stale = false;
        worker = infra.jobs.work({ prompts: [translate] });
        await until(async () => entered);
      }
      return read;
    });
    expect(await infra.jobs.cancelBatch(id)).toBe(false);
    expect((await keyTotal(infra, keyId)).reservedUsd).toBe(reserved);
    open();
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker?.stop();
    expect(batch.state).toBe('completed');
    expect(batch.items?.map((item) => item.ok)).toEqual([true]);
    expect(fake.batches.ids).toHaveLength(1);
    const settled = await keyTotal(infra, keyId);
    expect(settled.reservedUsd).toBe(0);
    expect(settled.spentUsd).toBeGreaterThan(0);
  }, 60_000);
});
