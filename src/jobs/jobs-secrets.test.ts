import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { createLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';
import { type JobsDatabase, sqliteJobsTarget } from './jobs.test-helpers.js';

/*
 * The secrets canary for the job queue: a handler whose error carries the API key must leave it
 * in no stored error, no wait() rejection, no log line and no inspect() of the queue.
 */
const KEY = 'sk-jobs-canary-5e1f7a3c9d2b4e6f';

let fake: FakeProviderServer;
let database: JobsDatabase;
let infra: Infrastructure;
const lines: string[] = [];

beforeAll(async () => {
  fake = await startFakeProviderServer();
  database = await sqliteJobsTarget.create();
  const logger = createLogger({ level: 'trace', format: 'json' }, { destination: { write: (line: string) => void lines.push(line) } });
  infra = await createInfrastructure({
    env: {
      DATABASE_URL: database.url,
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      JOBS_POLL_INTERVAL_MS: '50',
    },
    envFile: false,
    logger,
  });
  await infra.initDb();
}, 60_000);

afterAll(async () => {
  await infra?.close();
  await database?.drop();
  await fake?.close();
});

describe('secrets in the job queue', () => {
  it('appear in no stored error, rejection, log line or inspected object', async () => {
    infra.jobs.define('leaky', async () => {
      throw new Error(`upstream refused key ${KEY}`);
    });
    const id = await infra.jobs.enqueue('leaky', null, { retries: { limit: 0 } });
    const worker = infra.jobs.work();
    const failure = (await infra.jobs.wait(id).catch((error: unknown) => error)) as Error;
    await worker.stop();
    expect(failure.message).toContain('upstream refused key');
    const job = await infra.jobs.get(id);
    expect(job?.state).toBe('failed');
    const seen = [
      failure.message,
      inspect(failure, { depth: 8 }),
      JSON.stringify(job),
      JSON.stringify(await infra.jobs.list()),
      JSON.stringify(await infra.jobs.status()),
      inspect(infra.jobs, { depth: 8, showHidden: true }),
      await infra.metrics.registry.metrics(),
      lines.join('\n'),
    ];
    for (const text of seen) expect(text.includes(KEY)).toBe(false);
  }, 60_000);
});
