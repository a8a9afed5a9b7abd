import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { bucketOf, LATENCY_BOUNDS_MS, latencyClass, numberOf, quantileOf } from './ledger-sql.js';
import { bucketStarts, type TimeRange } from './time-range.js';

/** One bucket of the latency chart; null where the bucket had no call. */
export interface LatencyPoint {
  t: number;
  p50: number | null;
  p95: number | null;
}

/**
 * p50 and p95 latency per bucket of `range`, estimated from a latency histogram counted in SQL
 * (see `LATENCY_BOUNDS_MS`): one pass over the rows on every database, no sort.
 */
export async function latencySeries(db: Kysely<GroundworkTables>, range: TimeRange): Promise<LatencyPoint[]> {
  const rows = await db
    .selectFrom('llm_usage')
    .select([bucketOf(db, range.stepMs).as('bucket'), latencyClass().as('class'), sql<number>`count(*)`.as('calls')])
    .where('created_at', '>=', new Date(range.fromMs))
    .groupBy([sql`1`, sql`2`])
    .execute();
  const histograms = new Map<number, number[]>();
  for (const row of rows) {
    const t = numberOf(row.bucket) * range.stepMs;
    const counts = histograms.get(t) ?? new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    counts[numberOf(row.class)] = numberOf(row.calls);
    histograms.set(t, counts);
  }
  return bucketStarts(range).map((t) => {
    const counts = histograms.get(t) ?? [];
    return { t, p50: quantileOf(counts, 0.5) ?? null, p95: quantileOf(counts, 0.95) ?? null };
  });
}
