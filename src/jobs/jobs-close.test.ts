import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { systemClock } from '../internal/clock.js';
import { silentLogger } from '../observability/logger.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { Batches } from './batch/batches.js';
import { emptyCounts, type JobEngine } from './job-engine.js';
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

  it('closes the engine once, however often it is called', async () => {
    const engine = closingEngine();
    const jobs = jobsOn(engine);
    await jobs.close();
    await jobs.close();
    expect(engine.closed).toBe(1);
  });
});
