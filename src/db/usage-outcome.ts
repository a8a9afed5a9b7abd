import { type RawBuilder, type SqlBool, sql } from 'kysely';

/**
 * The outcome of a ledger row for a model turn its call went on from: a tool loop's or a repaired
 * answer's turns before the last. Such a row is neither a call nor a failure: its call is counted
 * once, by its last row (`success`, or the error code it failed with).
 */
export const CONTINUED_OUTCOME = 'continued';

/** Whether a ledger row ends its call (counts as one call): every outcome but `continued`. */
export function endsCall(outcome: string): boolean {
  return outcome !== CONTINUED_OUTCOME;
}

/** Whether a ledger row is a failed call: neither `success` nor `continued`. */
export function isFailedOutcome(outcome: string): boolean {
  return outcome !== 'success' && outcome !== CONTINUED_OUTCOME;
}

/** {@link endsCall} over the `outcome` column, in SQL. */
export function endsCallSql(): RawBuilder<SqlBool> {
  return sql<SqlBool>`outcome <> ${sql.lit(CONTINUED_OUTCOME)}`;
}

/** {@link isFailedOutcome} over the `outcome` column, in SQL: what every dashboard figure counts as failed. */
export function failedSql(): RawBuilder<SqlBool> {
  return sql<SqlBool>`outcome not in ('success', ${sql.lit(CONTINUED_OUTCOME)})`;
}

/** The calls among the rows summed, in SQL: `sum(…)` of 1 per row that ends its call (see {@link endsCall}). */
export function callCountSql(): RawBuilder<number> {
  return sql<number>`sum(case when ${endsCallSql()} then 1 else 0 end)`;
}

/** The failed calls among the rows summed, in SQL (see {@link isFailedOutcome}). */
export function failureCountSql(): RawBuilder<number> {
  return sql<number>`sum(case when ${failedSql()} then 1 else 0 end)`;
}
