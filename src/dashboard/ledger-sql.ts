import { type Expression, type Kysely, type RawBuilder, SqliteAdapter, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { failedSql } from '../db/usage-outcome.js';
import { LATENCY_BOUNDS_MS } from '../db/usage-rollup.js';
import type { TimeRange } from './time-range.js';

/** Whether `db` speaks SQLite (else the PostgreSQL family: PostgreSQL and PGlite). */
export function isSqlite(db: Kysely<GroundworkTables>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/**
 * The bucket number of `created_at` for buckets of `stepMs` (epoch seconds divided by the step,
 * rounded down). SQLite stores timestamps as ISO 8601 text, the PostgreSQL family as `timestamptz`.
 */
export function bucketOf(db: Kysely<GroundworkTables>, stepMs: number): RawBuilder<number> {
  const stepSeconds = Math.round(stepMs / 1000);
  return isSqlite(db)
    ? sql<number>`(cast(strftime('%s', created_at) as integer) / ${sql.lit(stepSeconds)})`
    : // date_part answers a double; extract answers numeric, whose arithmetic costs several times more per row.
      sql<number>`cast(floor(date_part('epoch', created_at) / ${sql.lit(stepSeconds)}) as bigint)`;
}

export { LATENCY_BOUNDS_MS };

/**
 * Whether the panels of `range` read an hourly roll-up rather than the raw ledger: when its
 * buckets are whole hours (the week and the month). Each panel reads the narrowest roll-up that
 * holds its dimensions (`llm_usage_hourly_model`, `_key` or `_prompt`; see usage-rollup-tables.ts). The hour and the day read
 * `llm_usage` itself: minute and half-hour buckets, over few enough rows.
 */
export function readsRollup(range: TimeRange, source?: LedgerSource): boolean {
  return source === undefined ? range.stepMs % 3_600_000 === 0 : source === 'rollup';
}

/** Which table a panel reads: chosen by the range when left out (see {@link readsRollup}); tests force one. */
export type LedgerSource = 'raw' | 'rollup';

/** The roll-up's bucket number for buckets of `stepMs` (a whole number of hours). */
export function rollupBucket(stepMs: number): RawBuilder<number> {
  return sql<number>`(hour / ${sql.lit(Math.round(stepMs / 3_600_000))})`;
}

/** The first roll-up hour of `range`. */
export function rollupFromHour(range: TimeRange): number {
  return Math.floor(range.fromMs / 3_600_000);
}

export { callCountSql, endsCallSql, failedSql, failureCountSql } from '../db/usage-outcome.js';

/** The failed calls of `llm_usage_hourly_model` (kept per outcome), summed: its `calls` of the failed outcomes. */
export function rollupFailureCount(): RawBuilder<number> {
  return sql<number>`sum(case when ${failedSql()} then calls else 0 end)`;
}

/** `''` (how the roll-up stores a missing prompt, key or team) as null. */
export function nullIfEmpty(value: string | null | undefined): string | null {
  return value === '' || value === undefined ? null : value;
}

/** The latency class of `latency_ms`: 0 for the first bound, `LATENCY_BOUNDS_MS.length` above the last. */
export function latencyClass(): RawBuilder<number> {
  const cases = LATENCY_BOUNDS_MS.map((bound, index) => sql`when latency_ms <= ${sql.lit(bound)} then ${sql.lit(index)}`);
  return sql<number>`case ${sql.join(cases, sql` `)} else ${sql.lit(LATENCY_BOUNDS_MS.length)} end`;
}

/** The `q` quantile (0–1) of a latency histogram (counts per class), interpolated within its class; undefined when empty. */
export function quantileOf(counts: readonly number[], q: number): number | undefined {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index] ?? 0;
    if (count > 0 && below + count >= rank) {
      const low = index === 0 ? 0 : (LATENCY_BOUNDS_MS[index - 1] ?? 0);
      const high = LATENCY_BOUNDS_MS[index] ?? low * 2;
      return Math.round(low + ((rank - below) / count) * (high - low));
    }
    below += count;
  }
  return LATENCY_BOUNDS_MS.at(-1);
}

/** A number from a SQL aggregate (PostgreSQL sends `bigint` and `numeric` as text). */
export function numberOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value);
}

/** `sum(column)` as an expression, for the columns the panels add up. */
export function total(column: 'cost_usd' | 'total_tokens' | 'prompt_tokens' | 'completion_tokens'): Expression<number> {
  return sql<number>`sum(${sql.ref(column)})`;
}
