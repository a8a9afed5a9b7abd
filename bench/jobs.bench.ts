import { Logger, run, runMigrations } from 'graphile-worker';
import { sql } from 'kysely';
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
 * On PostgreSQL, pg-boss against Graphile Worker 0.16 (the other engine the choice was between),
 * in the same database, in interleaved rounds: the enqueue inside the same Kysely transaction
 * (pg-boss's insert against `graphile_worker.add_job`), and 1,000 no-op jobs drained by one worker
 * of each at concurrency 16.
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
      if (target === postgresJobsTarget) {
        const versus = await againstGraphileWorker(infra, database.url);
        rows.push(...versus.rows);
        Object.assign(ratios, versus.ratios);
      }
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

/** A Graphile Worker logger that says nothing. */
const quiet = new Logger(() => () => {});

/**
 * pg-boss against Graphile Worker on the same database, interleaved: enqueue latency inside one
 * transaction (100 samples of each per round, 10 rounds), then throughput (1,000 no-op jobs per
 * engine per round, 3 rounds, one worker each at concurrency 16, each engine idle while the other runs).
 */
async function againstGraphileWorker(infra: Infrastructure<Tables>, url: string) {
  await runMigrations({ connectionString: url, logger: quiet });
  const pgBoss: number[] = [];
  const graphile: number[] = [];
  const plain: number[] = [];
  let n = 0;
  const time = async (samples: number[], engine: 'pg-boss' | 'graphile' | 'none') => {
    const started = performance.now();
    await infra.withSession(async (tx) => {
      n++;
      await tx
        .insertInto('notes')
        .values({ id: `g${n}`, text: 'x' })
        .execute();
      if (engine === 'pg-boss') await infra.jobs.enqueue('noop', { n });
      if (engine === 'graphile') await sql`SELECT graphile_worker.add_job('noop', ${JSON.stringify({ n })}::json)`.execute(tx);
    });
    samples.push((performance.now() - started) * 1000);
  };
  for (let warm = 0; warm < 60; warm++) await time([], (['pg-boss', 'graphile', 'none'] as const)[warm % 3] ?? 'none');
  for (let round = 0; round < 10; round++) {
    for (let index = 0; index < 100; index++) await time(pgBoss, 'pg-boss');
    for (let index = 0; index < 100; index++) await time(graphile, 'graphile');
    for (let index = 0; index < 100; index++) await time(plain, 'none');
  }
  const summary = (samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) };
  };
  await infra.db.deleteFrom('notes').execute();
  // Drain what the latency rounds left, on both engines, before timing throughput.
  await drain(infra, 0);
  await drainGraphile(infra, url, 0);
  const bossRates: number[] = [];
  const graphileRates: number[] = [];
  for (let round = 0; round < 3; round++) {
    bossRates.push(await drain(infra, 1000));
    graphileRates.push(await drainGraphile(infra, url, 1000));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const latency = { pgBoss: summary(pgBoss), graphile: summary(graphile), plain: summary(plain) };
  const rates = { pgBoss: median(bossRates), graphile: median(graphileRates) };
  return {
    rows: [
      { subject: 'PostgreSQL interleaved: transaction with pg-boss enqueue', p50_us: latency.pgBoss.p50, p99_us: latency.pgBoss.p99 },
      {
        subject: 'PostgreSQL interleaved: transaction with graphile_worker.add_job',
        p50_us: latency.graphile.p50,
        p99_us: latency.graphile.p99,
      },
      { subject: 'PostgreSQL interleaved: same transaction, no enqueue', p50_us: latency.plain.p50, p99_us: latency.plain.p99 },
      { subject: 'PostgreSQL interleaved: pg-boss no-op jobs, 1 worker × 16 (median of 3)', jobs_per_s: rates.pgBoss },
      { subject: 'PostgreSQL interleaved: Graphile Worker 0.16 no-op jobs, 1 worker × 16 (median of 3)', jobs_per_s: rates.graphile },
    ],
    ratios: {
      pg_boss_enqueue_added_p50_us: round(latency.pgBoss.p50 - latency.plain.p50),
      graphile_enqueue_added_p50_us: round(latency.graphile.p50 - latency.plain.p50),
      ratio_pg_boss_over_graphile_tx_p50: round(latency.pgBoss.p50 / latency.graphile.p50),
      pg_boss_jobs_per_s_interleaved: rates.pgBoss,
      graphile_jobs_per_s_interleaved: rates.graphile,
      ratio_pg_boss_over_graphile_jobs_per_s: round(rates.pgBoss / rates.graphile),
    },
  };
}

/** Enqueues `count` no-op jobs in one transaction, then times one Graphile Worker (concurrency 16) draining every job waiting. */
async function drainGraphile(infra: Infrastructure<Tables>, url: string, count: number): Promise<number> {
  const waitingRows = await sql<{ count: string }>`SELECT count(*) AS count FROM graphile_worker._private_jobs`.execute(infra.db);
  const waiting = Number(waitingRows.rows[0]?.count ?? 0);
  if (count > 0) {
    await infra.withSession(async (tx) => {
      for (let index = 0; index < count; index++)
        await sql`SELECT graphile_worker.add_job('noop', ${JSON.stringify({ index })}::json)`.execute(tx);
    });
  }
  const total = waiting + count;
  if (total === 0) return 0;
  let done = 0;
  let finished: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const started = performance.now();
  const runner = await run({
    connectionString: url,
    concurrency: 16,
    maxPoolSize: 17,
    noHandleSignals: true,
    pollInterval: 50,
    logger: quiet,
    taskList: {
      noop: async () => {
        done++;
        if (done >= total) finished();
      },
    },
  });
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  return round(total / seconds);
}
