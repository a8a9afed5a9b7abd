import { loadavg } from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { createInfrastructure } from '../src/create-infrastructure.js';
import type { Infrastructure } from '../src/infrastructure.js';
import { silentLogger } from '../src/observability/logger.js';
import { startReplica } from '../test/replica.js';
import { freshPostgresDatabase, postgresUrl } from '../test/services.js';
import { type BenchResult, type Figures, measureConcurrent, round } from './harness.js';

interface Tables {
  items: { id: number; value: number };
}

const ROUNDS = 4;
const READS = 1500;
const CONCURRENCY = 8;

/*
 * Read-heavy load with and without a read replica, in interleaved rounds in the same run, against
 * a real streaming replica of the test server (test/replica.ts). Each round opens a fresh
 * instance, runs READS read-only sessions (a range aggregate) with CONCURRENCY callers, closes
 * it (its backends exit and flush their statistics) and reads the primary's `xact_commit +
 * xact_rollback` for the benchmark's own database: the transactions the primary served.
 */
export default async function replicasBench(): Promise<BenchResult> {
  const primary = await freshPostgresDatabase('gw_bench_replicas');
  const database = new URL(primary.url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  const setup = await createInfrastructure<Tables>({ env: { DATABASE_URL: primary.url }, envFile: false, logger: silentLogger() });
  await sql`create table items (id integer primary key, value integer not null)`.execute(setup.db);
  await sql`insert into items select n, n % 97 from generate_series(1, 20000) as n`.execute(setup.db);
  await setup.close();
  const replica = await startReplica(database);
  const load: number[] = [loadavg()[0] ?? 0];
  try {
    await waitFor(async () => (await replica.query<{ n: string }>('select count(*) as n from items').catch(() => []))[0]?.n === '20000');
    const primaryTransactions = async (): Promise<number> => {
      const { rows } = await admin.query<{ n: string }>(
        'select xact_commit + xact_rollback as n from pg_stat_database where datname = $1',
        [database],
      );
      return Number(rows[0]?.n ?? 0);
    };
    const subjects = {
      'primary only': { DATABASE_URL: primary.url },
      'with one replica': { DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: replica.url },
    } as const;
    type Subject = keyof typeof subjects;
    const results: Record<Subject, { readsPerS: number[]; primaryShare: number[]; fallback: number }> = {
      'primary only': { readsPerS: [], primaryShare: [], fallback: 0 },
      'with one replica': { readsPerS: [], primaryShare: [], fallback: 0 },
    };
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
      const order: Subject[] = roundIndex % 2 === 0 ? ['primary only', 'with one replica'] : ['with one replica', 'primary only'];
      for (const subject of order) {
        const before = await primaryTransactions();
        const infra = await createInfrastructure<Tables>({
          env: { ...subjects[subject], DB_POOL_SIZE: String(CONCURRENCY), DB_REPLICA_CHECK_INTERVAL_MS: '500' },
          envFile: false,
          logger: silentLogger(),
        });
        let measured: Awaited<ReturnType<typeof measureConcurrent>>;
        let fallback = 0;
        try {
          await waitFor(async () => infra.database.replicaStatus().every((status) => status.state === 'healthy'));
          measured = await measureConcurrent(() => rangeRead(infra), { iterations: READS, concurrency: CONCURRENCY, warmup: 0 });
          const reads = await infra.metrics.dbReads.get();
          fallback = reads.values
            .filter((value) => value.labels.target === 'primary_fallback')
            .reduce((sum, value) => sum + value.value, 0);
        } finally {
          await infra.close();
        }
        // A backend flushes its statistics as it exits; give the exits a moment.
        await new Promise((resolve) => setTimeout(resolve, 700));
        const served = (await primaryTransactions()) - before;
        results[subject].readsPerS.push(measured.ops_per_s);
        results[subject].primaryShare.push(served / READS);
        results[subject].fallback += fallback;
        load.push(loadavg()[0] ?? 0);
      }
    }
    const rows: BenchResult['rows'] = [];
    const ratios: Figures = {};
    for (const subject of Object.keys(subjects) as Subject[]) {
      const { readsPerS, primaryShare, fallback } = results[subject];
      rows.push({
        subject,
        reads_per_s_median: round(median(readsPerS)),
        primary_share_median: round(median(primaryShare)),
        primary_share_per_round: primaryShare.map((share) => round(share)).join(' '),
        reads_per_s_per_round: readsPerS.map((value) => Math.round(value)).join(' '),
        fallback_reads: fallback,
      });
    }
    ratios.primary_share_without_replica = round(median(results['primary only'].primaryShare));
    ratios.primary_share_with_replica = round(median(results['with one replica'].primaryShare));
    ratios.ratio_reads_per_s_with_replica = round(
      median(results['with one replica'].readsPerS) / median(results['primary only'].readsPerS),
    );
    ratios.load_average_min = round(Math.min(...load));
    ratios.load_average_max = round(Math.max(...load));
    return {
      name: 'replicas',
      description: `${READS} read-only sessions (a range aggregate) × ${CONCURRENCY} callers per round, ${ROUNDS} interleaved rounds, with and without a streaming replica; the share of them the primary served (its pg_stat_database transactions ÷ reads)`,
      rows,
      ratios,
    };
  } finally {
    await admin.end();
    await replica.remove();
    await primary.drop();
  }
}

function rangeRead(infra: Infrastructure<Tables>): Promise<unknown> {
  const start = Math.floor(Math.random() * 19_000);
  return infra.withSession(
    (tx) =>
      tx
        .selectFrom('items')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('value').as('total')])
        .where('id', '>=', start)
        .where('id', '<', start + 500)
        .executeTakeFirst(),
    { readOnly: true },
  );
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the replica');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
