import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../internal/clock.js';
import { sqliteTarget, type TenantDatabase } from '../../tenants/tenant-databases.test-helpers.js';
import type { JobEngine } from '../job-engine.js';
import type { JobSnapshot, JobState } from '../job-types.js';
import { TableJobEngine } from '../table-job-engine.js';
import { BATCH_POLL_JOB, BATCH_SUBMIT_JOB, type BatchSummary, pollId, readBatch } from './batch-reader.js';
import type { BatchStepResult } from './batch-types.js';
import { Batches } from './batches.js';

const BATCH = 'batch-under-test';
const summary: BatchSummary = { provider: 'openai', model: 'gpt-4o-mini', prompt: { name: 'p', version: '1' }, total: 2, createdAt: 0 };

/** A batch's step rows in memory, counting how many rows each read looks up (a unit test of the reader's lookups). */
class StepRows {
  readonly rows = new Map<string, JobSnapshot>();
  lookups = 0;

  constructor() {
    this.add(BATCH, BATCH_SUBMIT_JOB, 'completed', {
      batch: BATCH,
      summary,
      state: 'in_progress',
      providerBatchId: 'b1',
      counts: { succeeded: 0, failed: 0 },
    });
  }

  /** Enqueues poll `step` (pending); the one before it completes with `result`. */
  poll(step: number, result: BatchStepResult): void {
    if (step > 1) this.add(pollId(BATCH, step - 1), BATCH_POLL_JOB, 'completed', result);
    this.add(pollId(BATCH, step), BATCH_POLL_JOB, 'created', undefined);
  }

  add(id: string, name: string, state: JobState, result: unknown): void {
    const at = new Date(0);
    this.rows.set(id, {
      id,
      name,
      state,
      priority: 0,
      attempts: 0,
      maxAttempts: 1,
      createdAt: at,
      runAt: at,
      startedAt: undefined,
      completedAt: undefined,
      result,
      error: undefined,
    });
  }

  engine(): JobEngine {
    const refuse = () => Promise.reject(new Error('a reader does not call this'));
    return {
      name: 'table',
      start: async () => {},
      insert: refuse,
      claim: refuse,
      complete: refuse,
      fail: refuse,
      release: refuse,
      maintain: refuse,
      get: async (id) => {
        this.lookups++;
        return this.rows.get(id);
      },
      has: async (id) => {
        this.lookups++;
        return this.rows.has(id);
      },
      payloadField: refuse,
      list: refuse,
      status: refuse,
      retry: refuse,
      cancel: refuse,
      close: async () => {},
    };
  }
}

const inProgress = (succeeded: number): BatchStepResult => ({
  batch: BATCH,
  state: 'in_progress',
  providerBatchId: 'b1',
  counts: { succeeded, failed: 0 },
});

describe('readBatch', () => {
  it('finds the last poll enqueued, and from a cursor looks up at most five rows per read however many polls there are', async () => {
    const steps = new StepRows();
    const engine = steps.engine();
    for (let step = 1; step <= 300; step++) steps.poll(step, inProgress(step - 1));
    expect((await readBatch(engine, BATCH))?.counts).toEqual({ succeeded: 299, failed: 0 });

    const cursor = { lastPoll: 0 };
    await readBatch(engine, BATCH, cursor);
    expect(cursor.lastPoll).toBe(300);
    for (let step = 301; step <= 340; step++) {
      steps.poll(step, inProgress(step - 1));
      steps.lookups = 0;
      const batch = await readBatch(engine, BATCH, cursor);
      // The submit row, two ids past the cursor, the last poll and the one before it.
      expect(steps.lookups).toBeLessThanOrEqual(5);
      expect(batch?.counts).toEqual({ succeeded: step - 1, failed: 0 });
      expect(cursor.lastPoll).toBe(step);
    }
    // Several polls enqueued since the last read are found too.
    for (let step = 341; step <= 360; step++) steps.poll(step, inProgress(step - 1));
    expect((await readBatch(engine, BATCH, cursor))?.counts).toEqual({ succeeded: 359, failed: 0 });
    expect(cursor.lastPoll).toBe(360);
  });

  it('Batches.wait keeps its place between reads', async () => {
    const steps = new StepRows();
    const engine = steps.engine();
    let step = 0;
    let reads = 0;
    // Every wait between reads enqueues the next poll; the 200th ends the batch.
    const clock: Clock = {
      now: () => 0,
      setTimeout: (callback) => {
        step++;
        if (step < 200) steps.poll(step, inProgress(step));
        else steps.add(pollId(BATCH, step - 1), BATCH_POLL_JOB, 'completed', { ...inProgress(step), state: 'completed' });
        reads++;
        queueMicrotask(callback);
        return undefined;
      },
      clearTimeout: () => {},
    };
    const batches = new Batches({
      engine,
      clock,
      appConfig: undefined,
      timeoutMs: 60_000,
      prompts: new Map(),
      session: () => undefined as never,
    });
    const done = await batches.wait(BATCH);
    expect(done.state).toBe('completed');
    expect(steps.lookups / (reads + 1)).toBeLessThanOrEqual(5);
  });
});

describe('TableJobEngine', () => {
  let opened: TenantDatabase;
  beforeAll(async () => {
    opened = await sqliteTarget.open();
  });
  afterAll(() => opened?.close());

  it("reads a job's state and result without its payload", async () => {
    const statements: string[] = [];
    const db = opened.database.db;
    const logged = db.withPlugin({
      transformQuery: ({ node, queryId }) => {
        statements.push(db.getExecutor().compileQuery(node, queryId).sql);
        return node;
      },
      transformResult: async ({ result }) => result,
    });
    const engine = new TableJobEngine(logged, { now: () => Date.now(), setTimeout: () => undefined, clearTimeout: () => {} });
    const id = 'job-with-a-large-payload';
    await engine.insert(logged, {
      id,
      name: 'custom',
      data: { kind: 'custom', payload: { items: 'x'.repeat(100_000) } },
      priority: 0,
      runAt: new Date(),
      retryLimit: 0,
      retryDelayMs: 0,
      retryBackoff: false,
      timeoutMs: 1000,
      resultTtlMs: 60_000,
    });
    statements.length = 0;
    expect((await engine.get(id))?.state).toBe('created');
    expect(await engine.has(id)).toBe(true);
    expect(await engine.has('no-such-job')).toBe(false);
    expect((await engine.list({ name: 'custom' })).map((job) => job.id)).toEqual([id]);
    expect(statements).toHaveLength(4);
    for (const statement of statements) {
      expect(statement).not.toMatch(/select \*|"data"/);
    }
  });
});
