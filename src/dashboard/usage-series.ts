import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { bucketOf, numberOf } from './ledger-sql.js';
import { bucketStarts, type TimeRange } from './time-range.js';

/** One bucket of the overview's usage chart. */
export interface UsagePoint {
  /** The bucket's start, epoch ms. */
  t: number;
  calls: number;
  failures: number;
  tokens: number;
  costUsd: number;
}

/** Calls, failures, tokens and cost per bucket of `range`, one point per bucket (empty buckets as zeros). */
export async function usageSeries(db: Kysely<GroundworkTables>, range: TimeRange): Promise<UsagePoint[]> {
  const bucket = bucketOf(db, range.stepMs);
  const rows = await db
    .selectFrom('llm_usage')
    .select([
      bucket.as('bucket'),
      sql<number>`count(*)`.as('calls'),
      sql<number>`sum(case when outcome = 'success' then 0 else 1 end)`.as('failures'),
      sql<number>`sum(total_tokens)`.as('tokens'),
      sql<number>`sum(cost_usd)`.as('cost_usd'),
    ])
    .where('created_at', '>=', new Date(range.fromMs))
    .groupBy(sql`1`)
    .execute();
  const byStart = new Map(rows.map((row) => [numberOf(row.bucket) * range.stepMs, row]));
  return bucketStarts(range).map((t) => {
    const row = byStart.get(t);
    return {
      t,
      calls: numberOf(row?.calls),
      failures: numberOf(row?.failures),
      tokens: numberOf(row?.tokens),
      costUsd: numberOf(row?.cost_usd),
    };
  });
}
