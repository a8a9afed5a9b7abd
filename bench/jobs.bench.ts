import { createInfrastructure } from '../src/create-infrastructure.js';
import type { Infrastructure } from '../src/infrastructure.js';
import { postgresJobsTarget, sqliteJobsTarget } from '../src/jobs/jobs.test-helpers.js';
import { silentLogger } from '../src/observability/logger.js';
import { type BenchResult, type Figures, percentile, round } from './harness.js';

interface Tables {
  notes: { id: string; text: string };
}

/*
 * The job queue on PostgreSQL (pg-boss) and SQLite (the groundwork_jobs table):
 * - enqueue latency inside a transaction, against the same transaction without the enqueue (one
 *   INSERT of an application row), measured in interleaved rounds;
 * - throughput of one worker process (concurrency 16) draining 2,000 no-op jobs.
 */
export default async function jobsBench(): Promise<BenchResult> {
  const rows: BenchResult['rows'] = [];
  const ratios: Figures = {};
  for (const target of [postgresJobsTarget, sqliteJobsTarget]) {
    const database = await target.create();
    const infra = await createInfrastructure<Tables>({
      env: { DATABASE_URL: database.url, JOBS_POLL_INTERVAL_MS: '50', DB_POOL_SIZE: '10' },
      envFile: false,
      logger: silentLogger(),
      migrations: {
        '001_notes': {
          async up(db) {
            await db.schema
              .createTable('notes')
              .addColumn('id', 'text', (column) => column.primaryKey())
              .addColumn('text', 'text')
              .execute();
          },
        },
      },
    });
    try {
      await infra.initDb();
      infra.jobs.define('noop', async () => null);
      const latency = await enqueueLatency(infra);
      const throughput = await drain(infra, 2000);
      rows.push({ subject: `${target.name}: transaction with enqueue`, p50_us: latency.withJob.p50, p99_us: latency.withJob.p99 });
      rows.push({ subject: `${target.name}: same transaction, no enqueue`, p50_us: latency.without.p50, p99_us: latency.without.p99 });
      rows.push({ subject: `${target.name}: no-op jobs, 1 worker × 16`, jobs_per_s: throughput });
      const key = target.name.toLowerCase();
      ratios[`${key}_enqueue_added_p50_us`] = round(latency.withJob.p50 - latency.without.p50);
      ratios[`${key}_ratio_tx_with_enqueue_p50`] = round(latency.withJob.p50 / latency.without.p50);
      ratios[`${key}_jobs_per_s`] = throughput;
    } finally {
      await infra.close();
      await database.drop();
    }
  }
  return {
    name: 'jobs',
    description: 'enqueue latency inside withSession against the same transaction without it; no-op jobs per second drained by one worker',
    rows,
    ratios,
  };
}

async function enqueueLatency(infra: Infrastructure<Tables>) {
  const withJob: number[] = [];
  const without: number[] = [];
  let n = 0;
  const time = async (samples: number[], enqueue: boolean) => {
    const started = performance.now();
    await infra.withSession(async (tx) => {
      n++;
      await tx
        .insertInto('notes')
        .values({ id: `n${n}`, text: 'x' })
        .execute();
      if (enqueue) await infra.jobs.enqueue('noop', { n });
    });
    samples.push((performance.now() - started) * 1000);
  };
  for (let warm = 0; warm < 50; warm++) await time([], warm % 2 === 0);
  for (let round = 0; round < 10; round++) {
    for (let index = 0; index < 100; index++) await time(withJob, true);
    for (let index = 0; index < 100; index++) await time(without, false);
  }
  const summary = (samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) };
  };
  // Leave no due jobs behind for the throughput run.
  await infra.db.deleteFrom('notes').execute();
  return { withJob: summary(withJob), without: summary(without) };
}

async function drain(infra: Infrastructure<Tables>, count: number): Promise<number> {
  const before = (await infra.jobs.status()).counts.completed;
  const waiting = (await infra.jobs.status()).counts.created;
  await infra.withSession(async () => {
    for (let index = 0; index < count; index++) await infra.jobs.enqueue('noop', { index });
  });
  const total = before + waiting + count;
  const started = performance.now();
  const worker = infra.jobs.work({ concurrency: 16, names: ['noop'] });
  while ((await infra.jobs.status()).counts.completed < total) await new Promise((resolve) => setTimeout(resolve, 50));
  const seconds = (performance.now() - started) / 1000;
  await worker.stop();
  return round((waiting + count) / seconds);
}
