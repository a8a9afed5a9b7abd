import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { PromptVersionRow } from './dashboard-wire.js';
import {
  callCountSql,
  endsCallSql,
  failureCountSql,
  type LedgerSource,
  nullIfEmpty,
  numberOf,
  readsRollup,
  rollupFromHour,
} from './ledger-sql.js';
import type { TimeRange } from './time-range.js';

export type { PromptVersionRow } from './dashboard-wire.js';

/** Each named prompt and version called since the start of `range`, by name then newest version first. */
export async function promptStats(db: Kysely<GroundworkTables>, range: TimeRange, source?: LedgerSource): Promise<PromptVersionRow[]> {
  const rows = readsRollup(range, source) ? await fromRollup(db, range) : await fromLedger(db, range);
  return rows
    .map((row) => {
      const calls = numberOf(row.calls);
      const failures = numberOf(row.failures);
      const cost = numberOf(row.cost_usd);
      return {
        name: row.prompt_name ?? '',
        version: nullIfEmpty(row.prompt_version),
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

interface PromptGroup {
  prompt_name: string | null;
  prompt_version: string | null;
  calls: number;
  failures: number;
  cost_usd: number;
  tokens: number;
  latency_ms: number;
  first_seen: unknown;
  last_seen: unknown;
}

function fromRollup(db: Kysely<GroundworkTables>, range: TimeRange): Promise<PromptGroup[]> {
  return db
    .selectFrom('llm_usage_hourly_prompt')
    .select([
      'prompt_name',
      'prompt_version',
      sql<number>`sum(calls)`.as('calls'),
      sql<number>`sum(failures)`.as('failures'),
      sql<number>`sum(cost_usd)`.as('cost_usd'),
      sql<number>`sum(total_tokens)`.as('tokens'),
      sql<number>`sum(latency_sum_ms) / nullif(sum(calls), 0)`.as('latency_ms'),
      sql<unknown>`min(first_ms)`.as('first_seen'),
      sql<unknown>`max(last_ms)`.as('last_seen'),
    ])
    .where('hour', '>=', rollupFromHour(range))
    .where('prompt_name', '<>', '')
    .groupBy(['prompt_name', 'prompt_version'])
    .execute();
}

function fromLedger(db: Kysely<GroundworkTables>, range: TimeRange): Promise<PromptGroup[]> {
  return db
    .selectFrom('llm_usage')
    .select([
      'prompt_name',
      'prompt_version',
      callCountSql().as('calls'),
      failureCountSql().as('failures'),
      sql<number>`sum(cost_usd)`.as('cost_usd'),
      sql<number>`sum(total_tokens)`.as('tokens'),
      // A call's latency is on each of its rows: averaged over the rows that end a call.
      sql<number>`avg(case when ${endsCallSql()} then latency_ms end)`.as('latency_ms'),
      sql<unknown>`min(created_at)`.as('first_seen'),
      sql<unknown>`max(created_at)`.as('last_seen'),
    ])
    .where('created_at', '>=', new Date(range.fromMs))
    .where('prompt_name', 'is not', null)
    .groupBy(['prompt_name', 'prompt_version'])
    .execute();
}

/** An aggregate timestamp as ISO text: a `Date` from PostgreSQL, stored ISO text from SQLite, epoch ms (a number, or int8 text) from the roll-up. */
function isoOf(value: unknown): string {
  if (typeof value === 'string' && /^\d+$/.test(value)) return new Date(Number(value)).toISOString();
  return new Date(value as string | number | Date).toISOString();
}
