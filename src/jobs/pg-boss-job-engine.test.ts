import { randomUUID } from 'node:crypto';
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase } from '../../test/services.js';
import { systemClock } from '../internal/clock.js';
import type { AnySession, ClaimedJob, NewJob } from './job-engine.js';
import { PgBossJobEngine } from './pg-boss-job-engine.js';

const SCHEMA = 'engine_boss';

/*
 * The pg-boss engine on a real PostgreSQL. A lease is pg-boss's `expire_in` from `started_on`, both
 * PostgreSQL's clock: the tests make a lease pass by setting the job's `expire_in` below zero (and make
 * a retried job due by moving its `start_after` back) instead of waiting for the clock.
 */
describe('pg-boss engine: only the run that holds a job completes or fails it', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: AnySession;
  let engine: PgBossJobEngine;
  beforeAll(async () => {
    database = await freshPostgresDatabase('gw_boss_engine');
    db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 4 }) }) });
    engine = new PgBossJobEngine(db, { schema: SCHEMA, clock: systemClock });
    await engine.start();
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  /** A due job of its own name, so that each test claims only its own. */
  const newJob = (): NewJob => ({
    id: randomUUID(),
    name: `lease-${randomUUID().slice(0, 8)}`,
    data: { kind: 'custom', payload: {} },
    priority: 0,
    runAt: new Date(Date.now() - 1000),
    retryLimit: 5,
    retryDelayMs: 0,
    retryBackoff: false,
    timeoutMs: 60_000,
    resultTtlMs: 60_000,
  });

  const sql = (text: string, values: unknown[]) => db.executeQuery(CompiledQuery.raw(text, values));

  const claimOne = async (job: NewJob): Promise<ClaimedJob> => {
    const [claimed] = await engine.claim([job.name], 1);
    if (claimed === undefined) throw new Error(`job ${job.id} was not claimed`);
    return claimed;
  };

  /** Lets the run's lease pass and releases it, as any worker's loop does. */
  const release = async (job: NewJob): Promise<void> => {
    await sql(`UPDATE ${SCHEMA}.job SET expire_in = interval '-1 second' WHERE id = $1`, [job.id]);
    await engine.maintain({ purge: false });
    await sql(`UPDATE ${SCHEMA}.job SET start_after = now() - interval '1 second', expire_in = interval '1 hour' WHERE id = $1`, [job.id]);
  };

  /** The first run outlived its lease; the job was released and a second run claimed it. */
  const reclaimed = async (job: NewJob): Promise<{ first: ClaimedJob; second: ClaimedJob }> => {
    await engine.insert(db, job);
    const first = await claimOne(job);
    await release(job);
    expect((await engine.get(job.id))?.state).toBe('retry');
    const second = await claimOne(job);
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    return { first, second };
  };

  it("refuses the stale run's failure: the job stays with the run that holds it, which then completes it", async () => {
    const job = newJob();
    const { first, second } = await reclaimed(job);
    expect(await engine.fail(db, first, 'late failure of the first run')).toBe(false);
    expect((await engine.get(job.id))?.state).toBe('active');
    // Not put back in the queue, so no third run starts beside the second.
    expect(await engine.claim([job.name], 1)).toEqual([]);
    expect(await engine.complete(db, second, { from: 'second run' })).toBe(true);
    expect(await engine.get(job.id)).toMatchObject({ state: 'completed', attempts: 2, result: { from: 'second run' } });
  });

  it("refuses the stale run's completion: the run that holds the job still records its own outcome", async () => {
    const job = newJob();
    const { first, second } = await reclaimed(job);
    expect(await engine.complete(db, first, { from: 'first run' })).toBe(false);
    expect((await engine.get(job.id))?.state).toBe('active');
    expect(await engine.fail(db, second, 'the second run failed')).toBe(true);
    expect(await engine.get(job.id)).toMatchObject({ state: 'retry', attempts: 2, error: 'the second run failed' });
  });

  it("refuses a stale run's release on shutdown: the job stays with the run that holds it", async () => {
    const job = newJob();
    const { first, second } = await reclaimed(job);
    expect(await engine.release(db, first, 'the worker stopped')).toBe(false);
    expect((await engine.get(job.id))?.state).toBe('active');
    expect(await engine.claim([job.name], 1)).toEqual([]);
    // The run that holds it may still hand it back, as the same attempt.
    expect(await engine.release(db, second, 'the worker stopped')).toBe(true);
    expect(await engine.get(job.id)).toMatchObject({ state: 'retry' });
  });

  it('refuses a stale run once its lease is released, before any other run claims the job', async () => {
    const job = newJob();
    await engine.insert(db, job);
    const first = await claimOne(job);
    await release(job);
    expect(await engine.complete(db, first, { from: 'first run' })).toBe(false);
    expect(await engine.fail(db, first, 'late failure')).toBe(false);
    expect(await engine.get(job.id)).toMatchObject({ state: 'retry', attempts: 1, result: undefined });
  });

  it('completes, and fails, the run that holds the job', async () => {
    const completed = newJob();
    await engine.insert(db, completed);
    expect(await engine.complete(db, await claimOne(completed), { ok: true })).toBe(true);
    expect(await engine.get(completed.id)).toMatchObject({ state: 'completed', attempts: 1, result: { ok: true } });

    const failed = newJob();
    await engine.insert(db, { ...failed, retryLimit: 1 });
    expect(await engine.fail(db, await claimOne(failed), 'first failure')).toBe(true);
    expect(await engine.get(failed.id)).toMatchObject({ state: 'retry', attempts: 1, error: 'first failure' });
    await sql(`UPDATE ${SCHEMA}.job SET start_after = now() - interval '1 second' WHERE id = $1`, [failed.id]);
    const last = await claimOne(failed);
    expect(last.attempt).toBe(2);
    expect(await engine.fail(db, last, 'last failure')).toBe(true);
    expect(await engine.get(failed.id)).toMatchObject({ state: 'failed', attempts: 2, error: 'last failure' });
  });

  it("completes in the application's transaction: a rollback leaves the job held by its run", async () => {
    const job = newJob();
    await engine.insert(db, job);
    const run = await claimOne(job);
    const rollback = new Error('the application rolled back');
    await expect(
      db.transaction().execute(async (tx) => {
        expect(await engine.complete(tx, run, { ok: true })).toBe(true);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect((await engine.get(job.id))?.state).toBe('active');
    expect(await db.transaction().execute((tx) => engine.complete(tx, run, { ok: true }))).toBe(true);
    expect(await engine.get(job.id)).toMatchObject({ state: 'completed', result: { ok: true } });
  });

  it('keeps a passed lease from being released while the run that holds it completes', async () => {
    const job = newJob();
    await engine.insert(db, job);
    const run = await claimOne(job);
    await sql(`UPDATE ${SCHEMA}.job SET expire_in = interval '-1 second' WHERE id = $1`, [job.id]);
    let releasing: Promise<void> | undefined;
    await db.transaction().execute(async (tx) => {
      expect(await engine.complete(tx, run, { ok: true })).toBe(true);
      // Releasing the lease now waits for the completion's row lock, then finds the job completed.
      releasing = engine.maintain({ purge: false });
      await waitForLockWaiter();
    });
    await releasing;
    expect(await engine.get(job.id)).toMatchObject({ state: 'completed', attempts: 1, result: { ok: true } });
  });

  /** Resolves once a session of this database waits for a row lock (bounded: a release that never waits fails the test). */
  const waitForLockWaiter = async (): Promise<void> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const waiting = await sql(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`, []);
      if (waiting.rows.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the release never waited for the row lock of the completing run');
  };

  it('refuses a run whose token is not one the engine gave', async () => {
    const job = newJob();
    await engine.insert(db, job);
    const run = await claimOne(job);
    expect(await engine.complete(db, { ...run, runToken: job.id }, { forged: true })).toBe(false);
    expect(await engine.fail(db, { ...run, runToken: '0@not-a-time' }, 'forged')).toBe(false);
    expect((await engine.get(job.id))?.state).toBe('active');
  });

  it('claims across names by priority, then age, so a backlog of one name does not starve another', async () => {
    const low = `low-${randomUUID().slice(0, 8)}`;
    const urgent = `urgent-${randomUUID().slice(0, 8)}`;
    const later = `later-${randomUUID().slice(0, 8)}`;
    const inserted: NewJob[] = [];
    for (let i = 0; i < 5; i++) inserted.push({ ...newJob(), name: low });
    inserted.push({ ...newJob(), name: urgent, priority: 100 });
    inserted.push({ ...newJob(), name: later, priority: 0, runAt: new Date(Date.now() - 60_000) });
    for (const job of inserted) await engine.insert(db, job);
    await sql(`UPDATE ${SCHEMA}.job SET created_on = created_on - interval '1 minute' WHERE name = $1`, [later]);
    const claimed = await engine.claim([low, urgent, later], 4);
    expect(claimed.map((job) => job.name)).toEqual([urgent, later, low, low]);
    expect(claimed[0]).toMatchObject({ id: inserted[5]?.id, attempt: 1, timeoutMs: 60_000, data: { kind: 'custom', payload: {} } });
    const rest = await engine.claim([low, urgent, later], 10);
    expect(rest.map((job) => job.name)).toEqual([low, low, low]);
    for (const job of [...claimed, ...rest]) expect(await engine.complete(db, job, { ok: true })).toBe(true);
  });

  it('reads a job by id through an index, on a queue made after the engine started, rather than scanning every partition', async () => {
    const job = newJob();
    await engine.insert(db, job);
    await sql(`INSERT INTO ${SCHEMA}.job (id, name, data) SELECT gen_random_uuid(), $1, '{}'::jsonb FROM generate_series(1, 20000)`, [
      job.name,
    ]);
    await sql(`ANALYZE ${SCHEMA}.job`, []);
    const queue = await sql(`SELECT partition_name FROM ${SCHEMA}.queue WHERE name = $1`, [job.name]);
    const partition = (queue.rows[0] as { partition_name: string }).partition_name;
    // The statements get, has and payloadField run (retry and cancel find the job's name the same way).
    for (const statement of [
      `SELECT id, state FROM ${SCHEMA}.job WHERE id = $1`,
      `SELECT 1 FROM ${SCHEMA}.job WHERE id = $1`,
      `SELECT data->'payload'->'spec' AS value FROM ${SCHEMA}.job WHERE id = $1`,
    ]) {
      const plan = await sql(`EXPLAIN ${statement}`, [job.id]);
      const text = plan.rows.map((row) => (row as { 'QUERY PLAN': string })['QUERY PLAN']).join('\n');
      // The other queues' partitions hold a row or two, which a scan reads as fast as an index.
      expect(text).not.toContain(`Seq Scan on ${partition}`);
      // PostgreSQL names the partition's index after it, cut to 63 characters.
      expect(text).toMatch(new RegExp(`Index (Only )?Scan using \\w+_id_idx on ${partition} `));
    }
    expect((await engine.get(job.id))?.id).toBe(job.id);
    expect(await engine.has(job.id)).toBe(true);
  }, 30_000);
});
