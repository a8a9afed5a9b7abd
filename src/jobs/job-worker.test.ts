import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { ManualClock } from '../testing/manual-clock.js';
import type { ClaimedJob, JobEngine } from './job-engine.js';
import { JobWorker } from './job-worker.js';

describe('JobWorker.stop', () => {
  it('ends the loop at once when asked to stop while it was claiming, rather than after one more poll interval', async () => {
    let answerClaim: (jobs: ClaimedJob[]) => void = () => undefined;
    let claiming = false;
    const engine = {
      maintain: async () => undefined,
      claim: () => {
        claiming = true;
        return new Promise<ClaimedJob[]>((resolve) => {
          answerClaim = resolve;
        });
      },
    } as unknown as JobEngine;
    // The clock is never advanced: a worker that sleeps a poll interval after the claim never stops.
    const worker = new JobWorker({
      engine,
      run: async () => undefined,
      names: ['work'],
      concurrency: 1,
      pollIntervalMs: 60_000,
      clock: new ManualClock(),
      logger: silentLogger(),
    });
    worker.start();
    await expect.poll(() => claiming).toBe(true);
    const stopped = worker.stop().then(() => 'stopped');
    answerClaim([]);
    const outcome = await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 1000, 'still polling'))]);
    expect(outcome).toBe('stopped');
  });
});
