import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import { until } from '../../jobs/batch/batch.test-helpers.js';
import { type JobsDatabase, sqliteJobsTarget } from '../../jobs/jobs.test-helpers.js';
import { definePrompt } from '../../llm/prompt.js';
import { silentLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

let fake: FakeProviderServer;
let database: JobsDatabase;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
afterEach(async () => {
  await database?.drop();
});

async function run(env: Record<string, string>, ...argv: string[]) {
  const io = recordingIo(env);
  const status = await main(argv, io);
  return { status, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

/** A database holding one batch waiting to be submitted; its id. */
async function waitingBatch(): Promise<{ env: Record<string, string>; id: string }> {
  database = await sqliteJobsTarget.create();
  const env = { DATABASE_URL: database.url, LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-cli-cancel', OPENAI_BASE_URL: fake.openaiBaseUrl };
  const infra = await createInfrastructure({ env, envFile: false, logger: silentLogger() });
  await infra.initDb();
  const id = await infra.jobs.enqueueBatch(definePrompt({ name: 'cli-cancel', version: 1, template: 'Say {{word}}.' }), [{ word: 'a' }]);
  await infra.close();
  return { env, id };
}

describe('groundwork jobs cancel on a batch', () => {
  it('refuses, naming groundwork jobs cancel-batch, and leaves the batch waiting', async () => {
    const { env, id } = await waitingBatch();
    const refused = await run(env, 'jobs', 'cancel', id);
    expect(refused.status).toBe(1);
    expect(refused.err).toContain(`groundwork jobs cancel-batch ${id}`);
    expect((await run(env, 'jobs', 'batches', id)).out).toContain('submitting');
    expect((await run(env, 'jobs', 'cancel-batch', id)).status).toBe(0);
  }, 60_000);
});

describe('groundwork jobs cancel-batch when it cannot cancel', () => {
  it('says to try again while the batch is being submitted', async () => {
    const { env, id } = await waitingBatch();
    fake.batches.holdCreateAnswer();
    const infra = await createInfrastructure({ env, envFile: false, logger: silentLogger() });
    const worker = infra.jobs.work({
      prompts: [definePrompt({ name: 'cli-cancel', version: 1, template: 'Say {{word}}.' })],
      pollIntervalMs: 20,
    });
    try {
      await until(async () => (await infra.jobs.get(id))?.state === 'active');
      const refused = await run(env, 'jobs', 'cancel-batch', id);
      expect(refused.status).toBe(1);
      expect(refused.err).toContain('being submitted');
      expect(refused.err).toContain('try again');
      expect(refused.err).not.toContain('only a batch waiting to be submitted');
    } finally {
      await worker.stop(0);
      fake.reset();
      await infra.close();
    }
  }, 60_000);

  it('says a batch that has ended has nothing left to cancel', async () => {
    const { env, id } = await waitingBatch();
    expect((await run(env, 'jobs', 'cancel-batch', id)).status).toBe(0);
    const again = await run(env, 'jobs', 'cancel-batch', id);
    expect(again.status).toBe(1);
    expect(again.err).toContain(`Batch ${id} has ended (cancelled)`);
  }, 60_000);

  it('refuses groundwork jobs retry on the batch it cancelled, which would resume it without its reservation', async () => {
    const { env, id } = await waitingBatch();
    expect((await run(env, 'jobs', 'cancel-batch', id)).status).toBe(0);
    const retried = await run(env, 'jobs', 'retry', id);
    expect(retried.status).toBe(1);
    expect(retried.err).toContain(`batch ${id} was cancelled`);
    expect((await run(env, 'jobs', 'batches', id)).out).toContain('cancelled');
  }, 60_000);
});
