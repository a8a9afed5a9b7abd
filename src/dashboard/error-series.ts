import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { ErrorPoint } from './dashboard-wire.js';
import { bucketOf, failedSql, type LedgerSource, numberOf, readsRollup, rollupBucket, rollupFromHour } from './ledger-sql.js';
import { OUTCOME_KINDS, outcomeKind } from './outcome-kind.js';
import { bucketStarts, type TimeRange } from './time-range.js';

export type { ErrorPoint } from './dashboard-wire.js';

/** Failed calls per bucket of `range`, grouped in SQL by outcome and then by kind (see {@link outcomeKind}). */
export async function errorSeries(db: Kysely<GroundworkTables>, range: TimeRange, source?: LedgerSource): Promise<ErrorPoint[]> {
  const rows = readsRollup(range, source)
    ? await db
        .selectFrom('llm_usage_hourly_model')
        .select([rollupBucket(range.stepMs).as('bucket'), 'outcome', sql<number>`sum(calls)`.as('calls')])
        .where('hour', '>=', rollupFromHour(range))
        .where(failedSql())
        .groupBy([sql`1`, 'outcome'])
        .execute()
    : await db
        .selectFrom('llm_usage')
        .select([bucketOf(db, range.stepMs).as('bucket'), 'outcome', sql<number>`count(*)`.as('calls')])
        .where('created_at', '>=', new Date(range.fromMs))
        .where(failedSql())
        .groupBy([sql`1`, 'outcome'])
        .execute();
  const points = new Map<number, ErrorPoint>(bucketStarts(range).map((t) => [t, emptyPoint(t)]));
  for (const row of rows) {
    const point = points.get(numberOf(row.bucket) * range.stepMs);
    if (point !== undefined) point[outcomeKind(row.outcome)] += numberOf(row.calls);
  }
  return [...points.values()];
}

function emptyPoint(t: number): ErrorPoint {
  const point = { t } as ErrorPoint;
  for (const kind of OUTCOME_KINDS) point[kind] = 0;
  return point;
}
