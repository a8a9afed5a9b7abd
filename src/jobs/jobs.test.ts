import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { definePrompt } from '../llm/prompt.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';
import { JobFailedError, JobInputError, JobNotFoundError } from './job-errors.js';
import { FULL_JOBS_TARGETS, JOBS_TARGETS, type JobsDatabase, type JobsTarget } from './jobs.test-helpers.js';

interface AppTables {
  notes: { id: string; text: string };
}

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const summarise = definePrompt({
  name: 'jobs-summarise',
  version: 1,
  template: 'Summarise {{text}}.',
  schema: z.object({ summary: z.string() }),
});

/** A fresh database on `target` and an initialised facade over it, for each test. */
function useInfra(target: JobsTarget): () => Infrastructure<AppTables> {
  let database: JobsDatabase;
  let infra: Infrastructure<AppTables>;

  beforeEach(async () => {
    database = await target.create();
    infra = await createInfrastructure<AppTables>({
      env: {
        DATABASE_URL: database.url,
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-test-jobs',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        LLM_MAX_ATTEMPTS: '1',
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'jobs_test',
      },
      envFile: false,
      logger: silentLogger(),
      migrations: {
        '001_notes': {
          async up(db) {
            await db.schema
              .createTable('notes')
              .addColumn('id', 'text', (column) => column.primaryKey())
              .addColumn('text', 'text')
              .execute();
          },
        },
      },
    });
    await infra.initDb();
    // PGlite takes seconds to start on a loaded machine.
  }, 120_000);

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });
  return () => infra;
}

describe.each(JOBS_TARGETS)('jobs on $name', (target) => {
  const current = useInfra(target);
  it(`uses the ${target.engine} engine, and status works on an empty queue`, async () => {
    expect(current().jobs.engine).toBe(target.engine);
    const status = await current().jobs.status();
    expect(status.counts).toEqual({ created: 0, retry: 0, active: 0, completed: 0, cancelled: 0, failed: 0 });
    expect(status.oldestDueAgeMs).toBe(0);
    expect((await current().health()).dependencies.find((dependency) => dependency.name === 'jobs')?.status).toBe('ok');
  });

  it('runs a prompt job, returns its validated result, and writes its ledger row with the job', async () => {
    fake.enqueue({ type: 'answer', content: '{"summary":"short"}', usage: { promptTokens: 12, completionTokens: 3 } });
    const id = await current().jobs.enqueue(summarise, { text: 'a long text' });
    expect((await current().jobs.get(id))?.state).toBe('created');
    const worker = current().jobs.work({ concurrency: 2 });
    const result = await current().jobs.wait<{ data: { summary: string }; usage: { totalTokens: number } }>(id);
    await worker.stop();
    expect(result.data).toEqual({ summary: 'short' });
    expect(result.usage.totalTokens).toBe(15);
    const job = await current().jobs.get(id);
    expect(job).toMatchObject({ state: 'completed', attempts: 1, name: 'jobs-summarise' });
    const rows = await current().db.selectFrom('llm_usage').select(['job_id', 'outcome', 'total_tokens']).execute();
    expect(rows).toEqual([{ job_id: id, outcome: 'success', total_tokens: 15 }]);
  });

  it('enqueues inside withSession: a rollback leaves no job, a commit leaves it with the row it came with', async () => {
    await expect(
      current().withSession(async (tx) => {
        await tx.insertInto('notes').values({ id: 'n1', text: 'first' }).execute();
        await current().jobs.enqueue(summarise, { text: 'first' }, { idempotencyKey: 'n1' });
        throw new Error('the request failed after enqueueing');
      }),
    ).rejects.toThrow('the request failed');
    expect((await current().jobs.status()).counts.created).toBe(0);
    expect(await current().jobs.list()).toEqual([]);

    const id = await current().withSession(async (tx) => {
      await tx.insertInto('notes').values({ id: 'n2', text: 'second' }).execute();
      return current().jobs.enqueue(summarise, { text: 'second' }, { tx });
    });
    expect((await current().jobs.get(id))?.state).toBe('created');
    expect(await current().db.selectFrom('notes').select('id').execute()).toEqual([{ id: 'n2' }]);
  });
});

describe.each(FULL_JOBS_TARGETS)('job options on $name', (target) => {
  const current = useInfra(target);
  it('enqueues one job per idempotency key', async () => {
    const first = await current().jobs.enqueue(summarise, { text: 'x' }, { idempotencyKey: 'doc-7' });
    const second = await current().jobs.enqueue(summarise, { text: 'x' }, { idempotencyKey: 'doc-7' });
    const other = await current().jobs.enqueue(summarise, { text: 'x' }, { idempotencyKey: 'doc-8' });
    expect(second).toBe(first);
    expect(other).not.toBe(first);
    expect((await current().jobs.status()).counts.created).toBe(2);
  });

  it('retries a failing custom job, then dead-letters it with its last error; retry() runs it again', async () => {
    let runs = 0;
    current().jobs.define('flaky', async (payload: { failUntil: number }, context) => {
      runs++;
      if (context.job.attempt <= payload.failUntil) throw new Error(`attempt ${context.job.attempt} broke`);
      return { attempt: context.job.attempt };
    });
    const doomed = await current().jobs.enqueue('flaky', { failUntil: 99 }, { retries: { limit: 1, delayMs: 0 } });
    const healed = await current().jobs.enqueue('flaky', { failUntil: 1 }, { retries: { limit: 2, delayMs: 0 } });
    const worker = current().jobs.work({ concurrency: 1 });
    expect(await current().jobs.wait(healed)).toEqual({ attempt: 2 });
    const failure = await current()
      .jobs.wait(doomed)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobFailedError);
    expect((failure as JobFailedError).lastError).toContain('attempt 2 broke');
    expect(await current().jobs.get(doomed)).toMatchObject({ state: 'failed', attempts: 2, maxAttempts: 2 });
    expect(runs).toBe(4);
    expect((await current().jobs.list({ state: 'failed' })).map((job) => job.id)).toEqual([doomed]);
    expect(await current().jobs.retry(doomed)).toBe(true);
    expect(await current().jobs.retry(healed)).toBe(false);
    await expect(current().jobs.wait(doomed)).rejects.toBeInstanceOf(JobFailedError);
    expect(runs).toBe(5);
    await worker.stop();
  });

  it('aborts a run at its timeout and counts it as a failed run', async () => {
    current().jobs.define(
      'hang',
      (_payload, context) =>
        new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason))),
    );
    const id = await current().jobs.enqueue('hang', null, { timeoutMs: 1000, retries: { limit: 0 } });
    const worker = current().jobs.work();
    const failure = (await current()
      .jobs.wait(id)
      .catch((error: unknown) => error)) as JobFailedError;
    await worker.stop();
    expect(failure.lastError).toContain('job_timeout');
  });

  it('runs higher priority first, holds a job until its runAt, and cancels', async () => {
    const order: string[] = [];
    current().jobs.define('record', async (payload: string) => {
      order.push(payload);
    });
    await current().jobs.enqueue('record', 'low', { priority: 1 });
    await current().jobs.enqueue('record', 'high', { priority: 5 });
    const later = await current().jobs.enqueue('record', 'later', { runAt: new Date(Date.now() + 60_000) });
    const cancelled = await current().jobs.enqueue('record', 'cancelled', { priority: 9 });
    expect(await current().jobs.cancel(cancelled)).toBe(true);
    expect(await current().jobs.cancel(cancelled)).toBe(false);
    const worker = current().jobs.work({ concurrency: 1 });
    await expect.poll(() => order.length, { timeout: 10_000 }).toBe(2);
    await worker.stop();
    expect(order).toEqual(['high', 'low']);
    expect((await current().jobs.get(later))?.state).toBe('created');
    expect((await current().jobs.get(cancelled))?.state).toBe('cancelled');
  });

  it('refuses bad input with every problem at once, and answers an unknown id', async () => {
    const error = await current()
      .jobs.enqueue('bad name!', null, { priority: 1.5, timeoutMs: 10, runAt: new Date('nope') })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobInputError);
    expect((error as JobInputError).problems).toHaveLength(4);
    expect(() => current().jobs.work()).toThrow(JobInputError);
    expect(await current().jobs.get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await current().jobs.get('not-a-uuid')).toBeUndefined();
    await expect(current().jobs.wait('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(JobNotFoundError);
  });
});
