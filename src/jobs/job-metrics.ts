import { createRequire } from 'node:module';
import type { Counter, Histogram, Registry } from 'prom-client';
import type { QueueStatus } from './job-types.js';

/**
 * How a run ended: `completed`, `retry` (failed, will run again), `dead_letter` (failed its last
 * retry, or its result could not be stored as JSON), `released` (cut short by its stopping worker, back
 * in the queue without counting as an attempt), `superseded` (the run no longer held its job: its
 * lease had passed, the job was cancelled, or an earlier try whose answer was lost had recorded it),
 * `unrecorded` (the transaction recording it kept failing on its connection, or kept clashing with
 * others: the job runs again once its lease passes).
 */
export type RunOutcome = 'completed' | 'retry' | 'dead_letter' | 'released' | 'superseded' | 'unrecorded';

/** The queue's metrics: runs by outcome and run time as they happen; depth and age read from the queue at each scrape. */
export interface JobMetrics {
  readonly runs: Counter<'name' | 'outcome'>;
  readonly runDuration: Histogram<'name'>;
}

/**
 * Registers the job metrics in `registry`: `groundwork_jobs_runs_total{name,outcome}`,
 * `groundwork_jobs_run_duration_seconds{name}`, and, read from the queue at each scrape,
 * `groundwork_jobs_depth{state}`, `groundwork_jobs_oldest_due_age_seconds`,
 * `groundwork_jobs_unrunnable` and `groundwork_jobs_oldest_unrunnable_age_seconds`.
 * A scrape while the database is unreachable leaves those gauges out rather than failing.
 */
export function createJobMetrics(registry: Registry, status: () => Promise<QueueStatus>): JobMetrics {
  const { Counter, Gauge, Histogram } = createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
  const registers = [registry];
  const runs = new Counter({
    name: 'groundwork_jobs_runs_total',
    help: 'Job runs by outcome (completed, retry, dead_letter, released, superseded, unrecorded).',
    labelNames: ['name', 'outcome'],
    registers,
  });
  const runDuration = new Histogram({
    name: 'groundwork_jobs_run_duration_seconds',
    help: 'Time a job run took, handler and completion.',
    labelNames: ['name'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers,
  });
  let latest: Promise<QueueStatus | undefined> | undefined;
  // One query per scrape, shared by every gauge.
  const read = (): Promise<QueueStatus | undefined> => {
    latest ??= status()
      .catch(() => undefined)
      .finally(() => setTimeout(() => (latest = undefined), 0).unref());
    return latest;
  };
  new Gauge({
    name: 'groundwork_jobs_depth',
    help: 'Jobs in the queue by state.',
    labelNames: ['state'],
    registers,
    async collect() {
      const current = await read();
      this.reset();
      if (current === undefined) return;
      for (const [state, count] of Object.entries(current.counts)) this.set({ state }, count);
    },
  });
  /** A gauge of one figure of the queue's status, left out of a scrape whose read failed. */
  const statusGauge = (name: string, help: string, value: (current: QueueStatus) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const current = await read();
        this.reset();
        if (current !== undefined) this.set(value(current));
      },
    });
  statusGauge('groundwork_jobs_oldest_due_age_seconds', 'How long the oldest job due to run has waited.', (s) => s.oldestDueAgeMs / 1000);
  statusGauge(
    'groundwork_jobs_unrunnable',
    'Jobs waiting for a worker that can run them: the workers that claimed them did not know their prompt version or kind.',
    (s) => s.unrunnable,
  );
  statusGauge(
    'groundwork_jobs_oldest_unrunnable_age_seconds',
    'How long the first job no worker could run has waited for one that can.',
    (s) => s.oldestUnrunnableAgeMs / 1000,
  );
  return { runs, runDuration };
}
