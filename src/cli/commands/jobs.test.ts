import { afterEach, describe, expect, it } from 'vitest';
import { postgresJobsTarget, sqliteJobsTarget } from '../../jobs/jobs.test-helpers.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

let drops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const drop of drops) await drop();
  drops = [];
});

async function run(env: Record<string, string>, ...argv: string[]) {
  const io = recordingIo({ ...env, JOBS_SCHEMA: 'jobs_cli' });
  const status = await main(argv, io);
  return { status, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe.each([sqliteJobsTarget, postgresJobsTarget])('groundwork jobs on $name', (target) => {
  it('reports an empty queue, lists nothing, and refuses to retry or cancel a job that does not exist', async () => {
    const database = await target.create();
    drops.push(() => database.drop());
    const env = { DATABASE_URL: database.url };
    const status = await run(env, 'jobs', 'status', '--json');
    expect(status.status).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({
      engine: target.engine,
      counts: { created: 0, active: 0, completed: 0, failed: 0 },
      oldestDueAgeMs: 0,
      unrunnable: 0,
      oldestUnrunnableAgeMs: 0,
    });
    const text = await run(env, 'jobs', 'status');
    expect(text.out).toContain('oldest due job waiting: 0 s');
    expect(text.out).toContain('jobs no worker could run: 0');
    expect((await run(env, 'jobs', 'list')).out).toBe('No jobs.');
    const retried = await run(env, 'jobs', 'retry', '00000000-0000-4000-8000-000000000000');
    expect(retried.status).toBe(1);
    expect(retried.err).toContain('No job 00000000-0000-4000-8000-000000000000');
  }, 120_000);
});

describe('groundwork jobs usage errors', () => {
  it('names every mistake at once, with exit status 2', async () => {
    const result = await run({ DATABASE_URL: 'sqlite::memory:' }, 'jobs', 'cancel', '--state', 'lost', '--limit', '0');
    expect(result.status).toBe(2);
    expect(result.err).toContain('cancel needs a job id');
    expect(result.err).toContain('--state lost');
    expect(result.err).toContain('--limit 0');
    expect((await run({ DATABASE_URL: 'sqlite::memory:' }, 'jobs', 'explode')).err).toContain('Unknown action "explode"');
  });

  it('takes --limit and --concurrency in decimal digits only, rather than reading 0x10 or 1e2 as some other number', async () => {
    const result = await run({ DATABASE_URL: 'sqlite::memory:' }, 'jobs', 'list', '--limit', '0x10');
    expect(result.status).toBe(2);
    expect(result.err).toContain('--limit 0x10: use a whole number from 1 to 10000');
    const work = await run({ DATABASE_URL: 'sqlite::memory:' }, 'jobs', 'work', '--concurrency', '1e2');
    expect(work.status).toBe(2);
    expect(work.err).toContain('--concurrency 1e2: use a whole number from 1 to 1000');
  });
});

describe('groundwork jobs batches', () => {
  it('lists no batches on an empty queue, shows and cancels one, and refuses an unknown id', async () => {
    const { startFakeProviderServer } = await import('../../testing/index.js');
    const { createInfrastructure } = await import('../../create-infrastructure.js');
    const { definePrompt } = await import('../../llm/prompt.js');
    const { silentLogger } = await import('../../observability/logger.js');
    const fake = await startFakeProviderServer();
    const database = await sqliteJobsTarget.create();
    drops.push(async () => {
      await fake.close();
      await database.drop();
    });
    const env = { DATABASE_URL: database.url, LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-cli-batch', OPENAI_BASE_URL: fake.openaiBaseUrl };
    expect((await run(env, 'jobs', 'batches')).out).toBe('No batches.');
    const infra = await createInfrastructure({ env, envFile: false, logger: silentLogger() });
    await infra.initDb();
    const prompt = definePrompt({ name: 'cli-batch', version: 1, template: 'Say {{word}}.' });
    const id = await infra.jobs.enqueueBatch(prompt, [{ word: 'a' }, { word: 'b' }]);
    await infra.close();
    const listed = await run(env, 'jobs', 'batches');
    expect(listed.out).toContain(id);
    expect(listed.out).toContain('openai/');
    expect(listed.out).toContain('submitting');
    expect(listed.out).toContain('0 ok, 0 failed of 2');
    const cancelled = await run(env, 'jobs', 'cancel-batch', id);
    expect(cancelled.status).toBe(0);
    const shown = await run(env, 'jobs', 'batches', id);
    expect(shown.out).toContain('cancelled');
    expect(shown.out).toContain('batch_cancelled');
    expect(shown.out).not.toContain('sk-cli-batch');
    const unknown = await run(env, 'jobs', 'batches', '00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(1);
    expect(unknown.err).toContain('No batch');
  }, 60_000);
});
