import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { Spend } from './dashboard-wire.js';
import { type LedgerSource, numberOf } from './ledger-sql.js';

export type { Spend } from './dashboard-wire.js';

/**
 * Spend per key id (or team id) for the UTC day and month containing `nowMs`, in one pass over
 * the hourly key roll-up `llm_usage_hourly_key` (days and months start on whole hours), or over the raw ledger when asked.
 */
export async function spendBy(
  db: Kysely<GroundworkTables>,
  column: 'key_id' | 'team_id',
  nowMs: number,
  source: LedgerSource = 'rollup',
): Promise<Map<string, Spend>> {
  const now = new Date(nowMs);
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const rows =
    source === 'rollup'
      ? await db
          .selectFrom('llm_usage_hourly_key')
          .select([
            sql<string>`${sql.ref(column)}`.as('owner'),
            sql<number>`sum(case when hour >= ${day.getTime() / 3_600_000} then cost_usd else 0 end)`.as('day'),
            sql<number>`sum(case when hour >= ${month.getTime() / 3_600_000} then cost_usd else 0 end)`.as('month'),
            sql<number>`sum(cost_usd)`.as('total'),
          ])
          .where(column, '<>', '')
          .groupBy(column)
          .execute()
      : await rawSpend(db, column, day, month);
  return new Map(
    rows.map((row) => [row.owner, { dayUsd: numberOf(row.day), monthUsd: numberOf(row.month), totalUsd: numberOf(row.total) }]),
  );
}

function rawSpend(db: Kysely<GroundworkTables>, column: 'key_id' | 'team_id', day: Date, month: Date) {
  return db
    .selectFrom('llm_usage')
    .select([
      sql<string>`${sql.ref(column)}`.as('owner'),
      sql<number>`sum(case when created_at >= ${day} then cost_usd else 0 end)`.as('day'),
      sql<number>`sum(case when created_at >= ${month} then cost_usd else 0 end)`.as('month'),
      sql<number>`sum(cost_usd)`.as('total'),
    ])
    .where(column, 'is not', null)
    .groupBy(column)
    .execute();
}
