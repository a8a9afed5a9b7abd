import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure, InfrastructureOptions } from '../infrastructure.js';
import { definePrompt } from '../llm/prompt.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';
import { ManualClock } from '../testing/manual-clock.js';
import { FULL_JOBS_TARGETS, type JobsDatabase } from './jobs.test-helpers.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const hello = definePrompt({ name: 'shutdown-hello', version: 1, template: 'Say {{word}}.' });

/** Resolves when the run is aborted, with the abort's reason. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

describe.each(FULL_JOBS_TARGETS)('stopping workers on $name', (target) => {
  let database: JobsDatabase;
  const opened: Infrastructure[] = [];

  /** A facade over this test's database; closed after the test. */
  async function open(options: Partial<InfrastructureOptions> = {}): Promise<Infrastructure> {
    const infra = await createInfrastructure({
      env: {
        DATABASE_URL: database.url,
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-test-shutdown',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        LLM_MAX_ATTEMPTS: '1',
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'jobs_shutdown',
      },
      envFile: false,
      logger: silentLogger(),
      ...options,
    });
    opened.push(infra);
    return infra;
  }

  beforeEach(async () => {
    database = await target.create();
  });

  afterEach(async () => {
    for (const infra of opened.splice(0)) await infra.close();
    await database.drop();
  });

  it('worker.stop() puts a job on its last attempt back in the queue without counting the run, and the next worker completes it', async () => {
    const infra = await open();
    await infra.initDb();
    const attempts: number[] = [];
    infra.jobs.define('deploy-cut', async (_payload: unknown, { job, signal }) => {
      attempts.push(job.attempt);
      if (attempts.length === 1) return untilAborted(signal);
      return 'done';
    });
    const id = await infra.jobs.enqueue('deploy-cut', null, { retries: { limit: 0 } });
    const first = infra.jobs.work({ concurrency: 1 });
    await vi.waitFor(() => expect(attempts).toEqual([1]));
    await first.stop(0); // a deploy: SIGTERM, the grace is over, the run is aborted
    expect(await infra.jobs.get(id)).toMatchObject({
      state: 'retry',
      attempts: 0,
      maxAttempts: 1,
      error: 'Error: the worker stopped before the job finished',
    });
    expect(await infra.metrics.registry.metrics()).toContain('groundwork_jobs_runs_total{name="deploy-cut",outcome="released"} 1');

    const second = infra.jobs.work({ concurrency: 1 });
    expect(await infra.jobs.wait(id)).toBe('done');
    await second.stop();
    expect(attempts).toEqual([1, 1]);
    expect(await infra.jobs.get(id)).toMatchObject({ state: 'completed', attempts: 1, maxAttempts: 1 });
  });

  it('releases a retried job back to the same attempt, so its retries are not spent by a stop', async () => {
    const infra = await open();
    await infra.initDb();
    const attempts: number[] = [];
    infra.jobs.define('flaky-then-cut', async (_payload: unknown, { job, signal }) => {
      attempts.push(job.attempt);
      if (attempts.length === 1) throw new Error('the first run failed on its own');
      if (attempts.length === 2) return untilAborted(signal);
      return 'done';
    });
    const id = await infra.jobs.enqueue('flaky-then-cut', null, { retries: { limit: 1, delayMs: 0 } });
    const first = infra.jobs.work({ concurrency: 1 });
    await vi.waitFor(() => expect(attempts).toEqual([1, 2]), { timeout: 10_000 });
    await first.stop(0);
    expect(await infra.jobs.get(id)).toMatchObject({ state: 'retry', attempts: 1, maxAttempts: 2 });

    const second = infra.jobs.work({ concurrency: 1 });
    expect(await infra.jobs.wait(id)).toBe('done');
    await second.stop();
    expect(attempts).toEqual([1, 2, 2]);
    expect(await infra.jobs.get(id)).toMatchObject({ state: 'completed', attempts: 2, maxAttempts: 2 });
  });

  it("infra.close() lets a running job use the facade during its grace period, and refuses everyone else's calls at once", async () => {
    fake.enqueue({ type: 'answer', content: 'hi', usage: { promptTokens: 4, completionTokens: 1 } });
    const infra = await open();
    await infra.initDb();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let proceed!: () => void;
    const closing = new Promise<void>((resolve) => (proceed = resolve));
    infra.jobs.define('finish-while-closing', async (_payload: unknown, { infra: app, executePrompt, job }) => {
      started();
      await closing;
      const answer = await executePrompt(hello, { word: 'hi' });
      const rows = await app.withSession((tx) => tx.selectFrom('llm_usage').select('id').execute());
      const self = await app.jobs.get(job.id);
      const direct = await app.executePrompt(hello, { word: 'again' }).catch((error: Error) => error.message);
      return { content: answer.content, rows: rows.length, state: self?.state, direct };
    });
    const id = await infra.jobs.enqueue('finish-while-closing', null, { retries: { limit: 0 } });
    infra.jobs.work({ concurrency: 1 });
    await running;

    const closed = infra.close();
    expect(infra.closed).toBe(true);
    expect(() => infra.executePrompt(hello, { word: 'outside' })).toThrow(/closed/);
    expect(() => infra.jobs).toThrow(/closed/);
    expect(() => infra.withSession(async () => 'outside')).toThrow(/closed/);
    proceed();
    await closed;

    const after = await open();
    const job = await after.jobs.get(id);
    // The handler's own direct call went through too: it answered, rather than being refused.
    expect(job).toMatchObject({
      state: 'completed',
      error: undefined,
      result: { content: 'hi', rows: 0, state: 'active', direct: { content: expect.any(String) } },
    });
    const rows = await after.db.selectFrom('llm_usage').select(['job_id']).execute();
    expect(rows).toContainEqual({ job_id: id });
  });

  it('infra.close() releases a job on its last attempt that outlives the grace period, rather than dead-lettering it', async () => {
    const clock = new ManualClock();
    const infra = await open({ clock });
    await infra.initDb();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    infra.jobs.define('outlives-grace', async (_payload: unknown, { signal }) => {
      started();
      return untilAborted(signal);
    });
    const id = await infra.jobs.enqueue('outlives-grace', null, { retries: { limit: 0 }, timeoutMs: 3_600_000 });
    infra.jobs.work({ concurrency: 1 });
    await running;
    let closed = false;
    const closing = infra.close().then(() => (closed = true));
    // The grace period (10 s) passes on the manual clock, a second at a time.
    await vi.waitFor(
      () => {
        clock.advance(1000);
        expect(closed).toBe(true);
      },
      { timeout: 20_000, interval: 20 },
    );
    await closing;
    const after = await open();
    expect(await after.jobs.get(id)).toMatchObject({
      state: 'retry',
      attempts: 0,
      error: 'Error: the worker stopped before the job finished',
    });
  });
});
