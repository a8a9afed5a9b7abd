import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { numberOf } from './ledger-sql.js';

/** What one key (or team) spent today, this month and in all, from the ledger. */
export interface Spend {
  dayUsd: number;
  monthUsd: number;
  totalUsd: number;
}

/** Spend per key id (or team id) for the UTC day and month containing `nowMs`, in one pass. */
export async function spendBy(db: Kysely<GroundworkTables>, column: 'key_id' | 'team_id', nowMs: number): Promise<Map<string, Spend>> {
  const now = new Date(nowMs);
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const rows = await db
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
  return new Map(
    rows.map((row) => [row.owner, { dayUsd: numberOf(row.day), monthUsd: numberOf(row.month), totalUsd: numberOf(row.total) }]),
  );
}
