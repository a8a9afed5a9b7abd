import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { LATENCY_CLASS_COLUMNS } from '../db/usage-rollup.js';
import type { LatencyPoint } from './dashboard-wire.js';
import {
  bucketOf,
  endsCallSql,
  LATENCY_BOUNDS_MS,
  type LedgerSource,
  latencyClass,
  numberOf,
  quantileOf,
  readsRollup,
  rollupBucket,
  rollupFromHour,
} from './ledger-sql.js';
import { bucketStarts, type TimeRange } from './time-range.js';

export type { LatencyPoint } from './dashboard-wire.js';

/**
 * p50 and p95 latency per bucket of `range`, estimated from a latency histogram counted in SQL
 * (see `LATENCY_BOUNDS_MS`): one pass over the rows on every database, no sort.
 */
export async function latencySeries(db: Kysely<GroundworkTables>, range: TimeRange, source?: LedgerSource): Promise<LatencyPoint[]> {
  const histograms = readsRollup(range, source) ? await rollupHistograms(db, range) : await rawHistograms(db, range);
  return bucketStarts(range).map((t) => {
    const counts = histograms.get(t) ?? [];
    return { t, p50: quantileOf(counts, 0.5) ?? null, p95: quantileOf(counts, 0.95) ?? null };
  });
}

/** Counts per latency class per bucket, summed from the model roll-up's class columns. */
async function rollupHistograms(db: Kysely<GroundworkTables>, range: TimeRange): Promise<Map<number, number[]>> {
  const rows = await db
    .selectFrom('llm_usage_hourly_model')
    .select([
      rollupBucket(range.stepMs).as('bucket'),
      ...LATENCY_CLASS_COLUMNS.map((column) => sql<number>`sum(${sql.ref(column)})`.as(column)),
    ])
    .where('hour', '>=', rollupFromHour(range))
    .groupBy(sql`1`)
    .execute();
  const rowsByClass = rows as Array<Record<string, unknown>>;
  return new Map(
    rowsByClass.map((row) => [numberOf(row['bucket']) * range.stepMs, LATENCY_CLASS_COLUMNS.map((column) => numberOf(row[column]))]),
  );
}

/** Counts per latency class per bucket, classed and counted over the raw ledger. */
async function rawHistograms(db: Kysely<GroundworkTables>, range: TimeRange): Promise<Map<number, number[]>> {
  const rows = await db
    .selectFrom('llm_usage')
    .select([bucketOf(db, range.stepMs).as('bucket'), latencyClass().as('class'), sql<number>`count(*)`.as('calls')])
    .where('created_at', '>=', new Date(range.fromMs))
    // A call's latency is on each of its rows: counted once, on the row that ends it.
    .where(endsCallSql())
    .groupBy([sql`1`, sql`2`])
    .execute();
  const histograms = new Map<number, number[]>();
  for (const row of rows) {
    const t = numberOf(row.bucket) * range.stepMs;
    const counts = histograms.get(t) ?? new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    counts[numberOf(row.class)] = numberOf(row.calls);
    histograms.set(t, counts);
  }
  return histograms;
}
