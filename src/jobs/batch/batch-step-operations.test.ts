import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Infrastructure } from '../../infrastructure.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { JobInputError } from '../job-errors.js';
import { type JobsDatabase, sqliteJobsTarget } from '../jobs.test-helpers.js';
import { echoWord, keyTotal, openBatchInfrastructure, translatePrompt, until } from './batch.test-helpers.js';
import { BATCH_POLL_JOB } from './batches.js';

const translate = translatePrompt('step-cancel-translate');

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());

describe('jobs.cancel and jobs.retry on a batch’s steps', () => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let keyId: string;

  beforeEach(async () => {
    fake.reset();
    fake.setHandler(echoWord);
    database = await sqliteJobsTarget.create();
    infra = await openBatchInfrastructure(fake, database.url, { JOBS_POLL_INTERVAL_MS: '50', TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '200' });
    ({
      key: { id: keyId },
    } = await infra.tenants.repository.createKey({ name: 'customer-step', totalBudgetUsd: 1 }));
  }, 60_000);

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  it('refuses a batch waiting to be submitted, naming cancelBatch and cancel-batch, and keeps it whole', async () => {
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-step' });
    const reserved = (await keyTotal(infra, keyId)).reservedUsd;
    const refused = await infra.jobs.cancel(id).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(JobInputError);
    expect((refused as Error).message).toContain(`jobs.cancelBatch('${id}')`);
    expect((refused as Error).message).toContain(`groundwork jobs cancel-batch ${id}`);
    expect((await infra.jobs.get(id))?.state).toBe('created');
    expect((await keyTotal(infra, keyId)).reservedUsd).toBe(reserved);
    // cancelBatch, as named, cancels it and releases the reservation.
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    expect((await keyTotal(infra, keyId)).reservedUsd).toBe(0);
  });

  it('refuses a poll step, naming its batch', async () => {
    fake.batches.settings.manual = true;
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { pollIntervalMs: 60_000 });
    const worker = infra.jobs.work({ prompts: [translate] });
    await until(async () => (await infra.jobs.list({ name: BATCH_POLL_JOB })).length > 0);
    await worker.stop();
    const [poll] = await infra.jobs.list({ name: BATCH_POLL_JOB });
    const refused = await infra.jobs.cancel(poll?.id ?? '').catch((error: unknown) => error);
    expect((refused as Error).message).toContain(`groundwork jobs cancel-batch ${id}`);
    expect((await infra.jobs.get(poll?.id ?? ''))?.state).toBe('created');
  });

  it('still cancels other jobs', async () => {
    infra.jobs.define('step-cancel-plain', async () => 'done');
    const id = await infra.jobs.enqueue('step-cancel-plain', {});
    expect(await infra.jobs.cancel(id)).toBe(true);
    expect((await infra.jobs.get(id))?.state).toBe('cancelled');
  });

  it('refuses jobs.retry of a cancelled batch, naming enqueueBatch: its reservation was released, so a resumed batch would be spent off the budget', async () => {
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-step' });
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    expect(await keyTotal(infra, keyId)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    const refused = await infra.jobs.retry(id).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(JobInputError);
    expect((refused as Error).message).toContain(`batch ${id} was cancelled`);
    expect((refused as Error).message).toContain('enqueueBatch');
    expect((await infra.jobs.get(id))?.state).toBe('cancelled');
    expect((await infra.jobs.getBatch(id))?.state).toBe('cancelled');
  });

  it('still retries other cancelled jobs', async () => {
    infra.jobs.define('step-retry-plain', async () => 'done');
    const id = await infra.jobs.enqueue('step-retry-plain', {});
    expect(await infra.jobs.cancel(id)).toBe(true);
    expect(await infra.jobs.retry(id)).toBe(true);
    expect((await infra.jobs.get(id))?.state).toBe('retry');
  });
});
