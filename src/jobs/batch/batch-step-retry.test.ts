import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Infrastructure } from '../../infrastructure.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { JobInputError } from '../job-errors.js';
import { type JobsDatabase, sqliteJobsTarget } from '../jobs.test-helpers.js';
import { echoWord, keyTotal, openBatchInfrastructure, translatePrompt } from './batch.test-helpers.js';

const translate = translatePrompt('step-retry-translate');

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());

describe('jobs.retry on a cancelled batch', () => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let keyId: string;

  beforeEach(async () => {
    fake.reset();
    fake.setHandler(echoWord);
    database = await sqliteJobsTarget.create();
    infra = await openBatchInfrastructure(fake, database.url, { TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '200' });
    ({
      key: { id: keyId },
    } = await infra.tenants.repository.createKey({ name: 'customer-retry', totalBudgetUsd: 1 }));
  }, 60_000);

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  it('refuses it, naming enqueueBatch: its reservation was released, so a resumed batch would be spent off the budget', async () => {
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-retry' });
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
