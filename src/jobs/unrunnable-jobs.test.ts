import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { type Clock, systemClock } from '../internal/clock.js';
import { silentLogger } from '../observability/logger.js';
import { ManualClock } from '../testing/manual-clock.js';
import type { ClaimedJob, JobEngine, NewJob } from './job-engine.js';
import { FULL_JOBS_TARGETS, type JobsDatabase } from './jobs.test-helpers.js';
import { PgBossJobEngine } from './pg-boss-job-engine.js';
import { TableJobEngine } from './table-job-engine.js';

const SCHEMA = 'jobs_unrunnable';

/*
 * Jobs no worker can run (a prompt version or kind the workers that claim them do not know, as during
 * a rolling deploy) go back to the queue, due again in 30 s, without counting an attempt. Each hand-back
 * makes them due anew, so the age of the oldest due job never shows them: they are counted on their own.
 */
describe.each(FULL_JOBS_TARGETS)('jobs no worker can run, on $name', (target) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  /** How far ahead of the real time the observing process's clock is. */
  let ahead = 0;
  const clock: Clock = { ...systemClock, now: () => Date.now() + ahead };

  beforeEach(async () => {
    ahead = 0;
    database = await target.create();
    infra = await createInfrastructure({
      env: { DATABASE_URL: database.url, JOBS_POLL_INTERVAL_MS: '50', JOBS_SCHEMA: SCHEMA, JOBS_STUCK_AFTER_MS: '60000' },
      envFile: false,
      logger: silentLogger(),
      clock,
    });
    await infra.initDb();
  });

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  it('counts them in status, the health check and the metrics, and degrades health once one has waited past JOBS_STUCK_AFTER_MS', async () => {
    const ids = [await infra.jobs.enqueue('resize', { width: 1 }), await infra.jobs.enqueue('resize', { width: 2 })];
    // A process that claims the kind but does not define it, as an older release during a deploy.
    const old = await createInfrastructure({
      env: { DATABASE_URL: database.url, JOBS_POLL_INTERVAL_MS: '50', JOBS_SCHEMA: SCHEMA },
      envFile: false,
      logger: silentLogger(),
    });
    try {
      const worker = old.jobs.work({ names: ['resize'], concurrency: 4, pollIntervalMs: 50 });
      await vi.waitFor(
        async () => {
          for (const id of ids) expect(await old.jobs.get(id)).toMatchObject({ state: 'retry', attempts: 0 });
        },
        { timeout: 10_000 },
      );
      await worker.stop();
    } finally {
      await old.close();
    }

    const fresh = await infra.jobs.status();
    expect(fresh).toMatchObject({ unrunnable: 2, counts: { retry: 2 } });
    expect(fresh.oldestUnrunnableAgeMs).toBeLessThan(60_000);
    const healthy = (await infra.health()).dependencies.find((dependency) => dependency.name === 'jobs');
    expect(healthy).toMatchObject({ status: 'ok', info: { unrunnable: 2 } });
    const metrics = await infra.metrics.registry.metrics();
    expect(metrics).toMatch(/^groundwork_jobs_unrunnable 2$/m);
    expect(metrics).toMatch(/^groundwork_jobs_oldest_unrunnable_age_seconds \d/m);

    ahead = 10 * 60_000;
    const late = await infra.jobs.status();
    expect(late.unrunnable).toBe(2);
    expect(late.oldestUnrunnableAgeMs).toBeGreaterThanOrEqual(10 * 60_000);
    const degraded = (await infra.health()).dependencies.find((dependency) => dependency.name === 'jobs');
    expect(degraded?.status).toBe('degraded');
    expect(degraded?.detail).toMatch(/unrunnable: 2 jobs have waited up to 6\d\d s \(more than JOBS_STUCK_AFTER_MS\)/);
    expect(degraded?.detail).toContain('prompt version or job kind');
  });

  it('keeps when a worker first could not run a job across hand-backs, and forgets it once a run records another outcome', async () => {
    const manual = new ManualClock(Date.now());
    const engine: JobEngine =
      target.engine === 'pg-boss'
        ? new PgBossJobEngine(infra.database.db, { schema: SCHEMA, clock: manual })
        : new TableJobEngine(infra.database.db, manual);
    await engine.start();
    const prefix = `kind-${randomUUID().slice(0, 8)}`;
    const session = infra.database.db;
    const insert = async (kind: string): Promise<void> => {
      const job: NewJob = {
        id: randomUUID(),
        name: `${prefix}-${kind}`,
        data: { kind: 'custom', payload: {} },
        priority: 0,
        runAt: new Date(Date.now() - 60_000),
        retryLimit: 5,
        retryDelayMs: 0,
        retryBackoff: false,
        timeoutMs: 60_000,
        resultTtlMs: 60_000,
      };
      expect(await engine.insert(session, job)).toBe(true);
    };
    const claim = async (kind: string): Promise<ClaimedJob> => {
      const [claimed] = await engine.claim([`${prefix}-${kind}`], 1);
      if (claimed === undefined) throw new Error(`no ${kind} job was claimed`);
      return claimed;
    };
    const unknown = 'job_handler_missing: no handler for this job kind in this worker';

    await insert('a');
    expect(await engine.release(session, await claim('a'), unknown, { unrunnable: true })).toBe(true);
    expect(await engine.status()).toMatchObject({ unrunnable: 1, oldestUnrunnableAgeMs: 0 });
    manual.advance(5000);
    expect(await engine.release(session, await claim('a'), unknown, { unrunnable: true })).toBe(true);
    expect(await engine.status()).toMatchObject({ unrunnable: 1, oldestUnrunnableAgeMs: 5000 });
    expect(await engine.get((await engine.list({ name: `${prefix}-a` }))[0]?.id ?? '')).toMatchObject({
      state: 'retry',
      attempts: 0,
      error: unknown,
    });

    // Handed back by its stopping worker, a job is not counted: a worker may well run it.
    await insert('b');
    expect(await engine.release(session, await claim('b'), 'the worker stopped')).toBe(true);
    expect(await engine.status()).toMatchObject({ unrunnable: 1, oldestUnrunnableAgeMs: 5000 });

    // Run by a worker that knows it, the job is not unrunnable any more, whatever the run's outcome;
    // should it meet an unknowing worker again, its wait starts anew.
    const known = await claim('a');
    expect(await engine.status()).toMatchObject({ unrunnable: 0, oldestUnrunnableAgeMs: 0 });
    expect(await engine.fail(session, known, 'a worker that knows it ran it, and it failed')).toBe(true);
    expect(await engine.status()).toMatchObject({ unrunnable: 0, oldestUnrunnableAgeMs: 0 });
    manual.advance(2000);
    expect(await engine.release(session, await claim('a'), unknown, { unrunnable: true })).toBe(true);
    manual.advance(1000);
    expect(await engine.status()).toMatchObject({ unrunnable: 1, oldestUnrunnableAgeMs: 1000 });
  });
});
