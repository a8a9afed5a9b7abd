import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { definePrompt } from '../llm/prompt.js';
import { type CapturedLogger, captureLogger } from '../observability/capture-logger.test-helpers.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';
import { ManualClock } from '../testing/manual-clock.js';
import { FULL_JOBS_TARGETS, type JobsDatabase } from './jobs.test-helpers.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const greet = definePrompt({ name: 'record-greet', version: 1, template: 'Greet {{name}}.' });

/** A dropped connection, as the drivers report it. */
function connectionReset(): Error {
  return Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
}

describe.each(FULL_JOBS_TARGETS)("recording a run's outcome on $name", (target) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let clock: ManualClock;
  let captured: CapturedLogger;
  /** Completion transactions tried, and how many of them still fail (after their work, so they roll back). */
  let tries: number;
  let failing: number;
  /** What a failing completion transaction throws. */
  let failure: () => Error;
  /** Completion transactions still to commit and then lose their answer. */
  let lostAnswers: number;

  beforeEach(async () => {
    database = await target.create();
    clock = new ManualClock();
    captured = captureLogger('info');
    infra = await createInfrastructure({
      env: {
        DATABASE_URL: database.url,
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-test-record',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        LLM_MAX_ATTEMPTS: '1',
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'jobs_record',
      },
      envFile: false,
      logger: captured.logger,
      clock,
    });
    await infra.initDb();
    tries = 0;
    failing = 0;
    lostAnswers = 0;
    failure = connectionReset;
    const original = infra.database.withSession.bind(infra.database);
    // Only the worker's completion goes through withSession in these tests.
    vi.spyOn(infra.database, 'withSession').mockImplementation(((fn: (tx: unknown) => Promise<unknown>, options?: never) => {
      tries++;
      const committed = original(async (tx) => {
        const value = await fn(tx);
        if (failing > 0) {
          failing--;
          throw failure();
        }
        return value;
      }, options);
      if (lostAnswers === 0) return committed;
      lostAnswers--;
      return committed.then(() => Promise.reject(connectionReset()));
    }) as never);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await infra.close();
    await database.drop();
  });

  /** Advances the manual clock a step at a time until `done` holds. */
  async function advanceUntil(done: () => Promise<boolean>): Promise<void> {
    await vi.waitFor(
      async () => {
        clock.advance(250);
        expect(await done()).toBe(true);
      },
      { timeout: 15_000, interval: 20 },
    );
  }

  it('tries the completion again after a failed commit, and writes the result and its ledger row once', async () => {
    fake.enqueue({ type: 'answer', content: 'Hello, Ada!', usage: { promptTokens: 5, completionTokens: 3 } });
    failing = 1;
    const id = await infra.jobs.enqueue(greet, { name: 'Ada' }, { retries: { limit: 0 } });
    const worker = infra.jobs.work({ concurrency: 1 });
    await advanceUntil(async () => (await infra.jobs.get(id))?.state === 'completed');
    expect(tries).toBe(2);
    expect(fake.requests).toHaveLength(1);
    expect((await infra.jobs.get(id))?.result).toMatchObject({ content: 'Hello, Ada!' });
    const rows = await infra.db.selectFrom('llm_usage').select(['job_id', 'total_tokens']).execute();
    expect(rows).toEqual([{ job_id: id, total_tokens: 8 }]);
    expect(captured.text()).toContain(
      "jobs: recording the run's outcome failed, trying again: ECONNRESET: Connection terminated unexpectedly",
    );
    expect(await infra.metrics.registry.metrics()).toContain('groundwork_jobs_runs_total{name="record-greet",outcome="completed"} 1');
    await worker.stop();
  });

  it.each([
    ['a serialisation failure', '40001', 'could not serialize access due to concurrent update'],
    ['a deadlock', '40P01', 'deadlock detected'],
  ])('tries the completion again after %s, which the database rolled back whole, and records it once', async (_, code, message) => {
    fake.enqueue({ type: 'answer', content: 'Hello, Kurt!', usage: { promptTokens: 5, completionTokens: 3 } });
    failing = 1;
    failure = () => Object.assign(new Error(message), { code });
    const id = await infra.jobs.enqueue(greet, { name: 'Kurt' }, { retries: { limit: 0 } });
    const worker = infra.jobs.work({ concurrency: 1 });
    await advanceUntil(async () => (await infra.jobs.get(id))?.state === 'completed');
    expect(tries).toBe(2);
    expect((await infra.jobs.get(id))?.result).toMatchObject({ content: 'Hello, Kurt!' });
    const rows = await infra.db.selectFrom('llm_usage').select(['job_id', 'total_tokens']).execute();
    expect(rows).toEqual([{ job_id: id, total_tokens: 8 }]);
    expect(captured.text()).toContain(`jobs: recording the run's outcome failed, trying again: ${code}: ${message}`);
    expect(await infra.metrics.registry.metrics()).toContain('groundwork_jobs_runs_total{name="record-greet",outcome="completed"} 1');
    await worker.stop();
  });

  it('says of a commit whose answer was lost that the run was most likely recorded, not that its lease passed', async () => {
    fake.enqueue({ type: 'answer', content: 'Hello, Barbara!' });
    lostAnswers = 1;
    const id = await infra.jobs.enqueue(greet, { name: 'Barbara' }, { retries: { limit: 0 } });
    const worker = infra.jobs.work({ concurrency: 1 });
    await advanceUntil(async () => (await infra.metrics.registry.metrics()).includes('outcome="superseded"} 1'));
    expect(tries).toBe(2);
    expect((await infra.jobs.get(id))?.state).toBe('completed');
    const logged = captured.records.find((record) => String(record.msg).includes('most likely recorded by an earlier try'));
    expect(logged).toMatchObject({ level: 'warn', job: id, msg: expect.stringContaining('(it is completed now)') });
    expect(captured.text()).not.toContain('lease had passed');
    await worker.stop();
  });

  it('gives up after four tries, logs and counts the run as unrecorded, and leaves the job to its lease', async () => {
    fake.enqueue({ type: 'answer', content: 'Hello, Grace!' });
    failing = Number.POSITIVE_INFINITY;
    const id = await infra.jobs.enqueue(greet, { name: 'Grace' }, { retries: { limit: 0 }, timeoutMs: 3_600_000 });
    const worker = infra.jobs.work({ concurrency: 1 });
    await advanceUntil(async () => (await infra.metrics.registry.metrics()).includes('outcome="unrecorded"} 1'));
    expect(tries).toBe(4);
    expect((await infra.jobs.get(id))?.state).toBe('active');
    expect(await infra.db.selectFrom('llm_usage').select('id').execute()).toEqual([]);
    const final = captured.records.find((record) => String(record.msg).includes('could not be recorded'));
    expect(final).toMatchObject({
      level: 'error',
      job: id,
      msg: expect.stringContaining('could not be recorded in 4 tries (ECONNRESET: Connection terminated unexpectedly)'),
    });
    failing = 0;
    await worker.stop();
  });

  it('does not try again a completion that failed otherwise than by its connection: it would fail every time', async () => {
    fake.enqueue({ type: 'answer', content: 'Hello, Edsger!' });
    failing = Number.POSITIVE_INFINITY;
    failure = () => Object.assign(new Error('value too long for type character varying(64)'), { code: '22001' });
    await infra.jobs.enqueue(greet, { name: 'Edsger' }, { retries: { limit: 0 }, timeoutMs: 3_600_000 });
    const worker = infra.jobs.work({ concurrency: 1 });
    await advanceUntil(async () => (await infra.metrics.registry.metrics()).includes('outcome="unrecorded"} 1'));
    // The outcome once, then the failure it calls for once (refused here too).
    expect(tries).toBe(2);
    expect(captured.text()).not.toContain('trying again');
    expect(captured.text()).toContain('could not be recorded in 1 try (22001: value too long');
    failing = 0;
    await worker.stop();
  });
});
