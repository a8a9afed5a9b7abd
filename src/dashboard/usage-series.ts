import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { UsagePoint } from './dashboard-wire.js';
import {
  bucketOf,
  callCountSql,
  failureCountSql,
  type LedgerSource,
  numberOf,
  readsRollup,
  rollupBucket,
  rollupFailureCount,
  rollupFromHour,
} from './ledger-sql.js';
import { bucketStarts, type TimeRange } from './time-range.js';

export type { UsagePoint } from './dashboard-wire.js';

/** Calls (a multi-turn call once), failed calls, tokens and cost (of every turn) per bucket of `range`, one point per bucket (empty buckets as zeros). */
export async function usageSeries(db: Kysely<GroundworkTables>, range: TimeRange, source?: LedgerSource): Promise<UsagePoint[]> {
  const rows = readsRollup(range, source)
    ? await db
        .selectFrom('llm_usage_hourly_model')
        .select([
          rollupBucket(range.stepMs).as('bucket'),
          sql<number>`sum(calls)`.as('calls'),
          rollupFailureCount().as('failures'),
          sql<number>`sum(total_tokens)`.as('tokens'),
          sql<number>`sum(cost_usd)`.as('cost_usd'),
        ])
        .where('hour', '>=', rollupFromHour(range))
        .groupBy(sql`1`)
        .execute()
    : await db
        .selectFrom('llm_usage')
        .select([
          bucketOf(db, range.stepMs).as('bucket'),
          callCountSql().as('calls'),
          failureCountSql().as('failures'),
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
