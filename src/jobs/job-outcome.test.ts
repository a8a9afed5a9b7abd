import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { definePrompt } from '../llm/prompt.js';
import { type CapturedLogger, captureLogger } from '../observability/capture-logger.test-helpers.js';
import { FULL_JOBS_TARGETS, type JobsDatabase } from './jobs.test-helpers.js';

describe.each(FULL_JOBS_TARGETS)('a run whose outcome cannot be recorded, on $name', (target) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let captured: CapturedLogger;

  beforeEach(async () => {
    database = await target.create();
    captured = captureLogger('info');
    infra = await createInfrastructure({
      env: { DATABASE_URL: database.url, JOBS_POLL_INTERVAL_MS: '50', JOBS_SCHEMA: 'jobs_outcome' },
      envFile: false,
      logger: captured.logger,
    });
    await infra.initDb();
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await infra.close();
    await database.drop();
  });

  it('dead-letters a job whose result JSON cannot hold after its one run, with that error', async () => {
    let runs = 0;
    infra.jobs.define('total', async () => {
      runs++;
      return { total: 10n };
    });
    const id = await infra.jobs.enqueue('total', {}, { retries: { limit: 1, delayMs: 0 } });
    const worker = infra.jobs.work({ concurrency: 1, pollIntervalMs: 50 });
    const error = await infra.jobs.wait(id, { pollIntervalMs: 50 }).catch((caught: unknown) => caught);
    await worker.stop();
    expect(runs).toBe(1);
    expect((error as Error).message).toMatch(/result must be JSON.*BigInt/);
    expect(await infra.metrics.registry.metrics()).toContain('groundwork_jobs_runs_total{name="total",outcome="dead_letter"} 1');
  });

  it("serialises a completed run's result once, when it is stored", async () => {
    let serialised = 0;
    const result = {
      toJSON: () => {
        serialised++;
        return { rows: [1, 2, 3] };
      },
    };
    infra.jobs.define('report', async () => result);
    const id = await infra.jobs.enqueue('report', {});
    const worker = infra.jobs.work({ concurrency: 1, pollIntervalMs: 50 });
    expect(await infra.jobs.wait(id, { pollIntervalMs: 50 })).toEqual({ rows: [1, 2, 3] });
    await worker.stop();
    expect(serialised).toBe(1);
  });

  it('says of a run whose job was cancelled meanwhile that it was cancelled, not that its lease passed', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    infra.jobs.define('long', async () => {
      started();
      await finishing;
      return { ok: true };
    });
    const id = await infra.jobs.enqueue('long', {});
    const worker = infra.jobs.work({ concurrency: 1, pollIntervalMs: 50 });
    await running;
    expect(await infra.jobs.cancel(id)).toBe(true);
    finish();
    await vi.waitFor(() => expect(captured.text()).toContain('outcome was not recorded'), { timeout: 10_000 });
    await worker.stop();
    const logged = captured.records.find((record) => String(record.msg).includes('outcome was not recorded'));
    expect(logged).toMatchObject({ job: id, msg: 'jobs: the job was cancelled while this run went on, so its outcome was not recorded' });
    expect(captured.text()).not.toContain('lease had passed');
    expect((await infra.jobs.get(id))?.state).toBe('cancelled');
  });

  it('fails a run whose outcome the database refuses with the refusal after one try, rather than leaving it to its lease', async () => {
    let runs = 0;
    infra.jobs.define('refused', async () => {
      runs++;
      return { ok: true };
    });
    const original = infra.database.withSession.bind(infra.database);
    let tries = 0;
    vi.spyOn(infra.database, 'withSession').mockImplementation(((fn: (tx: unknown) => Promise<unknown>, options?: never) => {
      tries++;
      return original(async (tx) => {
        const value = await fn(tx);
        // Only the first transaction (the outcome with its result) is refused.
        if (tries === 1) throw Object.assign(new Error('value too long for type character varying(64)'), { code: '22001' });
        return value;
      }, options);
    }) as never);
    const id = await infra.jobs.enqueue('refused', {}, { retries: { limit: 0 }, timeoutMs: 3_600_000 });
    const worker = infra.jobs.work({ concurrency: 1, pollIntervalMs: 50 });
    const error = await infra.jobs.wait(id, { pollIntervalMs: 50 }).catch((caught: unknown) => caught);
    await worker.stop();
    expect(runs).toBe(1);
    expect(tries).toBe(2);
    expect((error as Error).message).toContain('22001: value too long for type character varying(64)');
    const logged = captured.records.find((record) => String(record.msg).includes('could not be recorded'));
    expect(logged).toMatchObject({ level: 'error', job: id, msg: expect.stringContaining('in 1 try') });
    expect(logged?.msg).toContain(
      'the run is failed with that error, without its result or its 0 ledger rows, and the job is dead-lettered',
    );
  });

  it('puts back a run cut short by its stopping worker when its outcome is refused, rather than spending its last attempt', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    infra.jobs.define('cut-short', async () => {
      started();
      // Ends only when the stopping worker aborts it.
      await new Promise<never>(() => {});
    });
    const original = infra.database.withSession.bind(infra.database);
    let tries = 0;
    vi.spyOn(infra.database, 'withSession').mockImplementation(((fn: (tx: unknown) => Promise<unknown>, options?: never) => {
      tries++;
      return original(async (tx) => {
        const value = await fn(tx);
        // Only the first transaction (the release with its ledger rows) is refused.
        if (tries === 1) throw Object.assign(new Error('value too long for type character varying(64)'), { code: '22001' });
        return value;
      }, options);
    }) as never);
    const id = await infra.jobs.enqueue('cut-short', {}, { retries: { limit: 0 }, timeoutMs: 3_600_000 });
    const worker = infra.jobs.work({ concurrency: 1, pollIntervalMs: 50 });
    await running;
    await worker.stop(0);
    expect(tries).toBe(2);
    const job = await infra.jobs.get(id);
    expect(job).toMatchObject({ state: 'retry', attempts: 0 });
    expect(job?.error).toContain('22001: value too long');
    expect(await infra.metrics.registry.metrics()).toContain('groundwork_jobs_runs_total{name="cut-short",outcome="released"} 1');
  });

  it('puts back a job this worker cannot run, without spending an attempt, due later, and says so once', async () => {
    const v1 = definePrompt({ name: 'quiz-roll', version: 1, template: 'Quiz on {{topic}}.' });
    const v2 = definePrompt({ name: 'quiz-roll', version: 2, template: 'A quiz on {{topic}}.' });
    const first = await infra.jobs.enqueue(v2, { topic: 'rivers' }, { retries: { limit: 0 } });
    const second = await infra.jobs.enqueue(v2, { topic: 'lakes' }, { retries: { limit: 0 } });
    // A process that has only ever seen version 1, as during a rolling deploy.
    const old = await createInfrastructure({
      env: { DATABASE_URL: database.url, JOBS_POLL_INTERVAL_MS: '50', JOBS_SCHEMA: 'jobs_outcome' },
      envFile: false,
      logger: captured.logger,
    });
    try {
      const worker = old.jobs.work({ concurrency: 4, prompts: [v1], pollIntervalMs: 50 });
      await vi.waitFor(
        async () => {
          for (const id of [first, second]) expect((await old.jobs.get(id))?.state).toBe('retry');
        },
        { timeout: 10_000 },
      );
      await worker.stop();
    } finally {
      await old.close();
    }
    const now = Date.now();
    for (const id of [first, second]) {
      const job = await infra.jobs.get(id);
      expect(job).toMatchObject({ state: 'retry', attempts: 0, maxAttempts: 1 });
      expect(job?.error).toContain('prompt "quiz-roll" version 2 is not known to this worker');
      expect(job?.runAt.getTime()).toBeGreaterThan(now + 20_000);
    }
    const said = captured.records.filter((record) => String(record.msg).includes('not known to this worker'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 'warn', msg: expect.stringContaining('without counting as an attempt') });
  });
});
