import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { listCalls } from '../src/dashboard/call-list.js';
import { errorSeries } from '../src/dashboard/error-series.js';
import { spendBy } from '../src/dashboard/key-spend.js';
import { latencySeries } from '../src/dashboard/latency-series.js';
import { syntheticLedger } from '../src/dashboard/ledger-seed.test-helpers.js';
import { promptStats } from '../src/dashboard/prompt-stats.js';
import { type TimeRange, timeRange } from '../src/dashboard/time-range.js';
import { usageBreakdown } from '../src/dashboard/usage-breakdown.js';
import { usageSeries } from '../src/dashboard/usage-series.js';
import { createDatabase } from '../src/db/create-database.js';
import type { Database } from '../src/db/database.js';
import { databaseConfig } from '../src/db/database-contract.test-helpers.js';
import type { GroundworkTables } from '../src/db/groundwork-tables.js';
import { addToRollupTables, rebuildRollup, refillRollup } from '../src/db/usage-rollup.js';
import { ROLLUP_TABLES, WIDE_ROLLUP } from '../src/db/usage-rollup-tables.js';
import { createUsageSink, usageRow } from '../src/db/usage-sink.js';
import type { UsageRecord } from '../src/llm/usage-record.js';
import { silentLogger } from '../src/observability/logger.js';
import { postgresUrl, uniqueName } from '../test/services.js';
import { type BenchResult, percentile, round } from './harness.js';

/*
 * The dashboard's panel queries over a month of 1,000,000 ledger rows (GROUNDWORK_BENCH_ROWS to
 * change it), on SQLite and PostgreSQL, each query timed alone. The baseline, measured in the same
 * interleaved rounds, is the cheapest query over the same month: `count(*)` of its rows; each panel
 * is reported as a ratio to it, and against the 300 ms budget a page load may spend on one panel.
 * Month and week panels read the narrow hourly roll-ups (`usage_series_month_raw` reads the raw
 * ledger, for comparison); the rows each roll-up holds for the month are reported. Then the roll-up's cost to the ledger's write: a 100-row batch through the sink
 * (insert and roll-up upserts) against the same insert alone, and against the write as it was while the wide roll-up
 * of migration 0008 was kept too (that table, no longer written, filled for the purpose), in interleaved rounds.
 * GROUNDWORK_BENCH_DASHBOARD=writes measures only the writes (with GROUNDWORK_BENCH_ROWS, a smaller seed).
 */
const ROWS = Number(process.env['GROUNDWORK_BENCH_ROWS'] ?? 1_000_000);
const WRITES_ONLY = process.env['GROUNDWORK_BENCH_DASHBOARD'] === 'writes';
const ROUNDS = Number(process.env['GROUNDWORK_BENCH_ROUNDS'] ?? 3);
const PER_ROUND = 2;
const KEYS = Array.from({ length: 40 }, (_, index) => `key_bench_${index}`);

type Db = Kysely<GroundworkTables>;

const PANELS: Record<string, (db: Db, month: TimeRange, day: TimeRange) => Promise<unknown>> = {
  baseline_count_month: (db, month) =>
    db.selectFrom('llm_usage').select(sql`count(*)`.as('n')).where('created_at', '>=', new Date(month.fromMs)).execute(),
  usage_series_month: (db, month) => usageSeries(db, month),
  latency_series_month: (db, month) => latencySeries(db, month),
  error_series_month: (db, month) => errorSeries(db, month),
  breakdown_model_month: (db, month) => usageBreakdown(db, month, 'model'),
  breakdown_provider_month: (db, month) => usageBreakdown(db, month, 'provider'),
  breakdown_prompt_month: (db, month) => usageBreakdown(db, month, 'prompt'),
  breakdown_key_month: (db, month) => usageBreakdown(db, month, 'key'),
  prompts_month: (db, month) => promptStats(db, month),
  usage_series_week: (db, month) => usageSeries(db, timeRange('week', month.toMs)),
  latency_series_week: (db, month) => latencySeries(db, timeRange('week', month.toMs)),
  usage_series_month_raw: (db, month) => usageSeries(db, month, 'raw'),
  overview_day_all_panels: async (db, _month, day) => {
    await usageSeries(db, day);
    await latencySeries(db, day);
    await errorSeries(db, day);
    for (const dimension of ['model', 'provider', 'prompt', 'key']) await usageBreakdown(db, day, dimension, 8);
  },
  calls_first_page: (db) => listCalls(db, {}),
  calls_search: (db) => listCalls(db, { search: 'claude' }),
  calls_failed: (db) => listCalls(db, { outcome: 'failed' }),
  key_spend: (db, month) => spendBy(db, 'key_id', month.toMs),
  team_spend: (db, month) => spendBy(db, 'team_id', month.toMs),
};

async function seed(database: Database<GroundworkTables>, postgres: boolean, now: number): Promise<void> {
  const month = timeRange('month', now);
  const batch = 50_000;
  for (let start = 0; start < ROWS; start += batch) {
    const span = month.toMs - month.fromMs;
    const rows = syntheticLedger({
      count: Math.min(batch, ROWS - start),
      fromMs: month.fromMs + Math.floor((start / ROWS) * span),
      toMs: month.fromMs + Math.floor((Math.min(start + batch, ROWS) / ROWS) * span),
      keyIds: KEYS,
      seed: start + 1,
    });
    const columns = [
      'created_at',
      'provider',
      'model',
      'prompt_name',
      'prompt_version',
      'prompt_tokens',
      'completion_tokens',
      'total_tokens',
      'cost_usd',
      'latency_ms',
      'outcome',
      'attempts',
      'cache_hit',
      'key_id',
      'request_id',
    ] as const;
    if (postgres) {
      // One statement per batch: arrays unnested server-side.
      const types = [
        'timestamptz',
        'text',
        'text',
        'text',
        'text',
        'int',
        'int',
        'int',
        'float8',
        'float8',
        'text',
        'int',
        'bool',
        'text',
        'text',
      ];
      const arrays = columns.map(
        (column) => sql`${rows.map((row) => row[column] ?? null)}::${sql.raw(types[columns.indexOf(column)] ?? 'text')}[]`,
      );
      await sql`insert into llm_usage (${sql.join(columns.map((column) => sql.ref(column)))}) select * from unnest(${sql.join(arrays)})`.execute(
        database.db,
      );
    } else {
      await database.db.transaction().execute(async (transaction) => {
        for (let offset = 0; offset < rows.length; offset += 1000) {
          await transaction
            .insertInto('llm_usage')
            .values(rows.slice(offset, offset + 1000).map((row) => ({ ...row, cached_prompt_tokens: 0, reasoning_tokens: 0 })) as never)
            .execute();
        }
      });
    }
  }
  // Rows seeded straight into the ledger, as a backfill would be: the roll-up is rebuilt from them.
  const rebuilding = performance.now();
  await rebuildRollup(database.db);
  rollupRebuildMs = performance.now() - rebuilding;
  await sql`analyze`.execute(database.db);
}

let rollupRebuildMs = 0;

/** Ledger rows per write, as the ledger batches them by default. */
const WRITE_BATCH = 100;
const WRITES_PER_ROUND = 10;

/**
 * The roll-ups' cost to the ledger's write: the sink's batch (insert and the narrow roll-ups'
 * upserts, one transaction) against the same insert alone, and against the write with the wide
 * roll-up's upsert too (as the previous release wrote), in interleaved rounds, on the seeded database.
 */
async function measureWrites(label: string, database: Database<GroundworkTables>, now: number): Promise<BenchResult['rows']> {
  const sink = createUsageSink(database);
  // The wide roll-up (kept, no longer written) filled from the seeded ledger, so that the earlier write can be timed beside the current one.
  await database.db.transaction().execute((transaction) => refillRollup(transaction, undefined));
  const samples = { insert_only: [] as number[], insert_and_rollup: [] as number[], insert_and_rollup_with_wide: [] as number[] };
  let seed = 1;
  const batch = (): UsageRecord[] =>
    syntheticLedger({ count: WRITE_BATCH, fromMs: now - 60_000, toMs: now, keyIds: KEYS, seed: seed++ }).map((row) => ({
      createdAt: row.created_at,
      provider: row.provider as UsageRecord['provider'],
      model: row.model ?? 'gpt-4o-mini',
      promptName: row.prompt_name ?? null,
      promptVersion: row.prompt_version ?? null,
      promptTokens: row.prompt_tokens ?? 0,
      completionTokens: row.completion_tokens ?? 0,
      totalTokens: row.total_tokens ?? 0,
      cachedPromptTokens: 0,
      reasoningTokens: 0,
      costUsd: row.cost_usd ?? 0,
      latencyMs: row.latency_ms ?? 0,
      outcome: row.outcome ?? 'success',
      cacheHit: row.cache_hit ?? false,
      attempts: row.attempts ?? 1,
      requestId: row.request_id ?? null,
      keyId: row.key_id ?? null,
    }));
  const variants: Record<keyof typeof samples, () => Promise<unknown>> = {
    insert_only: () => {
      const plain = batch().map(usageRow);
      return database.db.transaction().execute((transaction) => transaction.insertInto('llm_usage').values(plain).execute());
    },
    insert_and_rollup: () => sink.writeBatch(batch()),
    insert_and_rollup_with_wide: () => {
      const withWide = batch().map(usageRow);
      return database.db.transaction().execute(async (transaction) => {
        await transaction.insertInto('llm_usage').values(withWide).execute();
        await addToRollupTables(transaction, [WIDE_ROLLUP, ...ROLLUP_TABLES], withWide);
      });
    },
  };
  const names = Object.keys(variants) as Array<keyof typeof samples>;
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (let write = 0; write < WRITES_PER_ROUND; write++) {
      // Each variant goes first, second and third in turn, so that none always follows the same one (a checkpoint, a flush).
      for (let step = 0; step < names.length; step++) {
        const name = names[(write + step) % names.length] as keyof typeof samples;
        const started = performance.now();
        await variants[name]();
        if (round > 0) samples[name].push(performance.now() - started);
      }
    }
  }
  const baseline = [...samples.insert_only].sort((a, b) => a - b);
  return Object.entries(samples).map(([name, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      subject: `${label} ledger_write_${WRITE_BATCH}_rows_${name}`,
      count: sorted.length,
      p50_ms: round(percentile(sorted, 50)),
      p95_ms: round(percentile(sorted, 95)),
      ratio_p50_to_baseline: round(percentile(sorted, 50) / percentile(baseline, 50)),
      within_300ms: '–',
    };
  });
}

async function measure(label: string, database: Database<GroundworkTables>, now: number): Promise<BenchResult['rows']> {
  const month = timeRange('month', now);
  const day = timeRange('day', now);
  const samples = new Map<string, number[]>(Object.keys(PANELS).map((name) => [name, []]));
  for (const [, panel] of Object.entries(PANELS)) await panel(database.db, month, day);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, panel] of Object.entries(PANELS)) {
      for (let repeat = 0; repeat < PER_ROUND; repeat++) {
        const started = performance.now();
        await panel(database.db, month, day);
        samples.get(name)?.push(performance.now() - started);
      }
    }
  }
  const baseline = [...(samples.get('baseline_count_month') ?? [])].sort((a, b) => a - b);
  return [...samples].map(([name, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      subject: `${label} ${name}`,
      count: sorted.length,
      p50_ms: round(percentile(sorted, 50)),
      p95_ms: round(percentile(sorted, 95)),
      ratio_p50_to_baseline: round(percentile(sorted, 50) / percentile(baseline, 50)),
      within_300ms: percentile(sorted, 95) < 300 ? 'yes' : 'no',
    };
  });
}

/** The write as it is now (narrow roll-ups) over the write with the wide roll-up too, p50 to p50, on one database. */
function writeRatio(rows: BenchResult['rows'], label: string): number {
  const p50 = (name: string) => Number(rows.find((row) => row.subject === `${label} ledger_write_${WRITE_BATCH}_rows_${name}`)?.p50_ms);
  return round(p50('insert_and_rollup') / p50('insert_and_rollup_with_wide'));
}

export default async function dashboardBench(): Promise<BenchResult> {
  const now = Date.now();
  const rows: BenchResult['rows'] = [];
  const rebuilds: Record<string, number> = {};
  const rollupRows: Record<string, number> = {};
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-dashboard-bench-'));
  const name = uniqueName('gw_dashboard_bench');
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  try {
    for (const [label, target, postgres] of [
      ['PostgreSQL', url.toString(), true],
      ['SQLite', `sqlite:${join(directory, 'ledger.db')}`, false],
    ] as const) {
      const database = await createDatabase<GroundworkTables>(databaseConfig(target, { poolSize: 2 }), { logger: silentLogger() });
      try {
        await database.migrate('up');
        const seeding = performance.now();
        await seed(database, postgres, now);
        console.log(
          `  ${label}: ${ROWS} rows seeded in ${Math.round(performance.now() - seeding)} ms, roll-up rebuilt in ${Math.round(rollupRebuildMs)} ms`,
        );
        rebuilds[label] = Math.round(rollupRebuildMs);
        for (const table of ROLLUP_TABLES) {
          const counted = await sql<{ n: number }>`select count(*) as n from ${sql.table(table.name)}`.execute(database.db);
          rollupRows[`${label === 'PostgreSQL' ? 'postgres' : 'sqlite'}_rows_${table.name}`] = Number(counted.rows[0]?.n);
        }
        if (!WRITES_ONLY) rows.push(...(await measure(label, database, now)));
        rows.push(...(await measureWrites(label, database, now)));
      } finally {
        await database.close();
      }
    }
  } finally {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
    rmSync(directory, { recursive: true, force: true });
  }
  const p95 = (subject: string) => Number(rows.find((row) => row.subject === subject)?.p95_ms);
  return {
    name: 'dashboard',
    description: `dashboard panel queries over a month of ${ROWS} ledger rows, ${ROUNDS} interleaved rounds of ${PER_ROUND}; baseline: count(*) of the month`,
    rows,
    ratios: {
      rows: ROWS,
      ...(WRITES_ONLY
        ? { writes_only: 1 }
        : {
            postgres_slowest_month_panel_p95_ms: Math.max(
              ...Object.keys(PANELS)
                .filter((panel) => (panel.endsWith('_month') || panel.endsWith('_week')) && !panel.startsWith('baseline'))
                .map((panel) => p95(`PostgreSQL ${panel}`)),
            ),
            ratio_postgres_usage_series_to_baseline: Number(
              rows.find((row) => row.subject === 'PostgreSQL usage_series_month')?.ratio_p50_to_baseline,
            ),
          }),
      ratio_postgres_write_with_rollup_to_insert_only: Number(
        rows.find((row) => row.subject === `PostgreSQL ledger_write_${WRITE_BATCH}_rows_insert_and_rollup`)?.ratio_p50_to_baseline,
      ),
      ratio_sqlite_write_with_rollup_to_insert_only: Number(
        rows.find((row) => row.subject === `SQLite ledger_write_${WRITE_BATCH}_rows_insert_and_rollup`)?.ratio_p50_to_baseline,
      ),
      ratio_postgres_write_now_to_with_wide: writeRatio(rows, 'PostgreSQL'),
      ratio_sqlite_write_now_to_with_wide: writeRatio(rows, 'SQLite'),
      postgres_rollup_rebuild_ms: rebuilds['PostgreSQL'] ?? 0,
      sqlite_rollup_rebuild_ms: rebuilds['SQLite'] ?? 0,
      ...rollupRows,
    },
  };
}
