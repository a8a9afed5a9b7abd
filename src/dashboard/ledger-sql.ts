import { type Expression, type Kysely, type RawBuilder, SqliteAdapter, sql } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';

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

/**
 * Upper bounds of the latency classes, in ms. Percentiles are read from these classes (one pass,
 * the same SQL on every database) and interpolated within the class that holds them.
 */
export const LATENCY_BOUNDS_MS = [
  25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000,
] as const;

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
