import { type Kysely, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { DashboardInputError } from './dashboard-input-error.js';
import type { BreakdownOthers, BreakdownRow } from './dashboard-wire.js';
import {
  callCountSql,
  failureCountSql,
  type LedgerSource,
  nullIfEmpty,
  numberOf,
  readsRollup,
  rollupFailureCount,
  rollupFromHour,
} from './ledger-sql.js';
import type { TimeRange } from './time-range.js';

export type { BreakdownRow } from './dashboard-wire.js';

/** What the overview splits usage by. */
export type BreakdownDimension = 'model' | 'provider' | 'prompt' | 'key';

/** The dimensions `by=` accepts. */
export const BREAKDOWN_DIMENSIONS: readonly BreakdownDimension[] = ['model', 'provider', 'prompt', 'key'];

const COLUMN = { model: 'model', provider: 'provider', prompt: 'prompt_name', key: 'key_id' } as const;

/** The narrowest roll-up holding each dimension, and how it counts failures there. */
const ROLLUP = {
  model: { table: 'llm_usage_hourly_model', failures: rollupFailureCount() },
  provider: { table: 'llm_usage_hourly_model', failures: rollupFailureCount() },
  prompt_name: { table: 'llm_usage_hourly_prompt', failures: sql<number>`sum(failures)` },
  key_id: { table: 'llm_usage_hourly_key', failures: sql<number>`sum(failures)` },
} as const;

/** Calls, tokens, cost and failures since the start of `range` by one dimension, costliest first, the first `limit` groups (null: every group). */
export async function usageBreakdown(
  db: Kysely<GroundworkTables>,
  range: TimeRange,
  dimension: string,
  limit: number | null = 10,
  source?: LedgerSource,
): Promise<BreakdownRow[]> {
  return named(db, dimension, await groupsOf(db, range, dimension, limit, source));
}

/**
 * The costliest `shown` groups, as {@link usageBreakdown} gives them (every group when undefined),
 * and the groups past them summed in `others` (null when none is left out). Only the groups shown
 * are named: a period may have called more keys than one statement takes parameters.
 */
export async function usageBreakdownWithOthers(
  db: Kysely<GroundworkTables>,
  range: TimeRange,
  dimension: string,
  shown: number | undefined,
  source?: LedgerSource,
): Promise<{ data: BreakdownRow[]; others: BreakdownOthers | null }> {
  const rows = await groupsOf(db, range, dimension, null, source);
  if (shown === undefined || rows.length <= shown) return { data: await named(db, dimension, rows), others: null };
  const others = rows.slice(shown).reduce(
    (sum, row) => ({
      groups: sum.groups + 1,
      calls: sum.calls + row.calls,
      tokens: sum.tokens + row.tokens,
      costUsd: sum.costUsd + row.costUsd,
      failures: sum.failures + row.failures,
    }),
    { groups: 0, calls: 0, tokens: 0, costUsd: 0, failures: 0 },
  );
  return { data: await named(db, dimension, rows.slice(0, shown)), others };
}

/** A group's figures before its key is named. */
type Unnamed = Omit<BreakdownRow, 'label'>;

async function groupsOf(
  db: Kysely<GroundworkTables>,
  range: TimeRange,
  dimension: string,
  limit: number | null,
  source: LedgerSource | undefined,
): Promise<Unnamed[]> {
  const column = COLUMN[dimension as BreakdownDimension];
  if (column === undefined)
    throw new DashboardInputError('by', `"${dimension.slice(0, 40)}" is not a dimension; use ${BREAKDOWN_DIMENSIONS.join(', ')}`);
  const grouped = readsRollup(range, source)
    ? await fromRollup(db, range, column, limit)
    : await db
        .selectFrom('llm_usage')
        .select([
          sql<string | null>`${sql.ref(column)}`.as('group'),
          callCountSql().as('calls'),
          sql<number>`sum(total_tokens)`.as('tokens'),
          sql<number>`sum(cost_usd)`.as('cost_usd'),
          failureCountSql().as('failures'),
        ])
        .where('created_at', '>=', new Date(range.fromMs))
        .groupBy(column)
        .orderBy(sql`4`, 'desc')
        .orderBy(sql`2`, 'desc')
        .$if(limit !== null, (select) => select.limit(limit ?? 0))
        .execute();
  return grouped.map((row) => ({
    group: nullIfEmpty(row.group),
    calls: numberOf(row.calls),
    tokens: numberOf(row.tokens),
    costUsd: numberOf(row.cost_usd),
    failures: numberOf(row.failures),
  }));
}

/** `rows` with their keys' names, by `key`; with no name by any other dimension. */
async function named(db: Kysely<GroundworkTables>, dimension: string, rows: readonly Unnamed[]): Promise<BreakdownRow[]> {
  const names =
    dimension === 'key'
      ? await keyNames(
          db,
          rows.map((row) => row.group),
        )
      : new Map<string, string>();
  return rows.map((row) => ({ ...row, label: row.group === null ? null : (names.get(row.group) ?? null) }));
}

/** The same groups summed from the narrow roll-up that holds `column`. */
function fromRollup(db: Kysely<GroundworkTables>, range: TimeRange, column: (typeof COLUMN)[BreakdownDimension], limit: number | null) {
  const { table, failures } = ROLLUP[column];
  return sql<{ group: string | null; calls: number; tokens: number; cost_usd: number; failures: number }>`
    select ${sql.ref(column)} as ${sql.ref('group')}, sum(calls) as calls, sum(total_tokens) as tokens, sum(cost_usd) as cost_usd,
      ${failures} as failures
    from ${sql.table(table)}
    where hour >= ${rollupFromHour(range)}
    group by ${sql.ref(column)}
    order by 4 desc, 2 desc
    ${limit === null ? sql`` : sql`limit ${limit}`}`
    .execute(db)
    .then((result) => result.rows);
}

/** Ids per statement: SQLite takes 32,766 parameters at most (999 before 3.32), PostgreSQL 65,535. */
const NAMES_PER_QUERY = 900;

/** The names of the keys among `ids`. */
export async function keyNames(db: Kysely<GroundworkTables>, ids: Array<string | null>): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  const names = new Map<string, string>();
  for (let start = 0; start < wanted.length; start += NAMES_PER_QUERY) {
    const chunk = wanted.slice(start, start + NAMES_PER_QUERY);
    const rows = await db.selectFrom('groundwork_keys').select(['id', 'name']).where('id', 'in', chunk).execute();
    for (const row of rows) names.set(row.id, row.name);
  }
  return names;
}
