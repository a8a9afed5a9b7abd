import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { systemClock } from '../internal/clock.js';
import { silentLogger } from '../observability/logger.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { Batches } from './batch/batches.js';
import { emptyCounts, type JobEngine } from './job-engine.js';
import { JobWorker } from './job-worker.js';
import { Jobs } from './jobs.js';

/** An engine that only records being closed (the queue's own behaviour is tested on real databases). */
function closingEngine(): JobEngine & { closed: number } {
  const unused = () => Promise.reject(new Error('not used here'));
  return {
    name: 'table',
    closed: 0,
    start: async () => {},
    insert: unused,
    claim: unused,
    complete: unused,
    fail: unused,
    release: unused,
    maintain: unused,
    get: unused,
    has: unused,
    payloadField: unused,
    list: unused,
    status: async () => ({ counts: emptyCounts(), oldestDueAgeMs: undefined }) as never,
    retry: unused,
    cancel: unused,
    async close() {
      this.closed++;
    },
  };
}

function jobsOn(engine: JobEngine): Jobs<object> {
  return new Jobs<object>({
    facade: {},
    config: { schema: 'pgboss', pollIntervalMs: 1000, timeoutMs: 60_000, retryLimit: 2, stuckAfterMs: 600_000 },
    database: {} as Database<GroundworkTables>,
    clock: systemClock,
    logger: silentLogger(),
    metrics: new GroundworkMetrics(),
    executePrompt: () => Promise.reject(new Error('not used here')),
    engine,
  });
}

describe('Jobs.close', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('closes the engine even when closing the batch clients fails, and reports that failure', async () => {
    const engine = closingEngine();
    const jobs = jobsOn(engine);
    vi.spyOn(Batches.prototype, 'close').mockRejectedValue(new Error('batch client would not close'));
    await expect(jobs.close()).rejects.toThrow('batch client would not close');
    expect(engine.closed).toBe(1);
  });

  it('waits for every worker to stop before closing the batch clients and the engine, even when one fails to stop', async () => {
    const engine = closingEngine();
    const jobs = jobsOn(engine);
    const batchesClosed = vi.spyOn(Batches.prototype, 'close');
    const stop = JobWorker.prototype.stop;
    let letSecondStop: () => void = () => undefined;
    const secondStopping = new Promise<void>((resolve) => (letSecondStop = resolve));
    let firstFailed: () => void = () => undefined;
    const firstFailing = new Promise<void>((resolve) => (firstFailed = resolve));
    vi.spyOn(JobWorker.prototype, 'stop')
      .mockImplementationOnce(async function (this: JobWorker, graceMs) {
        await stop.call(this, graceMs);
        firstFailed();
        throw new Error('first worker would not stop');
      })
      .mockImplementationOnce(async function (this: JobWorker, graceMs) {
        await stop.call(this, graceMs);
        await secondStopping;
      });
    jobs.work({ names: ['first'], pollIntervalMs: 10 });
    jobs.work({ names: ['second'], pollIntervalMs: 10 });
    let settled = false;
    const closing = jobs.close().finally(() => (settled = true));
    // Let the first worker's failure come through: the second is still stopping, so nothing else is closed.
    await firstFailing;
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(batchesClosed).not.toHaveBeenCalled();
    expect(engine.closed).toBe(0);
    letSecondStop();
    await expect(closing).rejects.toThrow('first worker would not stop');
    expect(batchesClosed).toHaveBeenCalledTimes(1);
    expect(engine.closed).toBe(1);
  });

  it('reports every failing step, in order, when several fail', async () => {
    const engine = closingEngine();
    engine.close = async () => {
      engine.closed++;
      throw new Error('engine would not close');
    };
    const jobs = jobsOn(engine);
    const stop = JobWorker.prototype.stop;
    vi.spyOn(JobWorker.prototype, 'stop').mockImplementationOnce(async function (this: JobWorker, graceMs) {
      await stop.call(this, graceMs);
      throw new Error('worker would not stop');
    });
    vi.spyOn(Batches.prototype, 'close').mockRejectedValue(new Error('batch client would not close'));
    jobs.work({ names: ['only'], pollIntervalMs: 10 });
    const failure = await jobs.close().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).errors.map((error: Error) => error.message)).toEqual([
      'worker would not stop',
      'batch client would not close',
      'engine would not close',
    ]);
    expect(engine.closed).toBe(1);
  });

  it('closes the engine once, however often it is called', async () => {
    const engine = closingEngine();
    const jobs = jobsOn(engine);
    await jobs.close();
    await jobs.close();
    expect(engine.closed).toBe(1);
  });
});
