import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { numberOf } from './ledger-sql.js';
import type { TimeRange } from './time-range.js';

/** One prompt version's record over the period. */
export interface PromptVersionRow {
  name: string;
  version: string | null;
  calls: number;
  failures: number;
  /** failures / calls, 0–1. */
  failureRate: number;
  costUsd: number;
  /** Mean cost of one call, USD. */
  costPerCallUsd: number;
  tokens: number;
  meanLatencyMs: number;
  firstSeen: string;
  lastSeen: string;
}

/** Each named prompt and version called since the start of `range`, by name then newest version first. */
export async function promptStats(db: Kysely<GroundworkTables>, range: TimeRange): Promise<PromptVersionRow[]> {
  const rows = await db
    .selectFrom('llm_usage')
    .select([
      'prompt_name',
      'prompt_version',
      sql<number>`count(*)`.as('calls'),
      sql<number>`sum(case when outcome = 'success' then 0 else 1 end)`.as('failures'),
      sql<number>`sum(cost_usd)`.as('cost_usd'),
      sql<number>`sum(total_tokens)`.as('tokens'),
      sql<number>`avg(latency_ms)`.as('latency_ms'),
      sql<unknown>`min(created_at)`.as('first_seen'),
      sql<unknown>`max(created_at)`.as('last_seen'),
    ])
    .where('created_at', '>=', new Date(range.fromMs))
    .where('prompt_name', 'is not', null)
    .groupBy(['prompt_name', 'prompt_version'])
    .execute();
  return rows
    .map((row) => {
      const calls = numberOf(row.calls);
      const failures = numberOf(row.failures);
      const cost = numberOf(row.cost_usd);
      return {
        name: row.prompt_name ?? '',
        version: row.prompt_version,
        calls,
        failures,
        failureRate: calls === 0 ? 0 : failures / calls,
        costUsd: cost,
        costPerCallUsd: calls === 0 ? 0 : cost / calls,
        tokens: numberOf(row.tokens),
        meanLatencyMs: Math.round(numberOf(row.latency_ms)),
        firstSeen: isoOf(row.first_seen),
        lastSeen: isoOf(row.last_seen),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || b.lastSeen.localeCompare(a.lastSeen));
}

/** An aggregate timestamp as ISO text: a `Date` from PostgreSQL, stored ISO text from SQLite. */
function isoOf(value: unknown): string {
  return new Date(value as string | Date).toISOString();
}
