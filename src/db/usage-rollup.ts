import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { GroundworkTables } from './groundwork-tables.js';
import { callCountSql, endsCall, endsCallSql, failureCountSql, isFailedOutcome } from './usage-outcome.js';
import {
  ROLLUP_GROUP_COLUMNS,
  ROLLUP_TABLES,
  type RollupGroupColumn,
  type RollupSumColumn,
  type RollupTable,
  WIDE_ROLLUP,
} from './usage-rollup-tables.js';
import { MultiRowStatement, quote, type StatementStyle, statementStyle } from './usage-statements.js';

export { ROLLUP_GROUP_COLUMNS };

/**
 * Upper bounds of the latency classes, in ms. The dashboard reads percentiles from counts per
 * class (the same on the raw ledger and on the hourly roll-ups), interpolated within the class.
 */
export const LATENCY_BOUNDS_MS = [
  25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000,
] as const;

/** The roll-up's latency class columns, `lat_0` … `lat_22` (the last: above the last bound). */
export const LATENCY_CLASS_COLUMNS: readonly string[] = Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, index) => `lat_${index}`);

/** Bound parameters per INSERT statement, under SQLite's and PostgreSQL's limits. */
const PARAMETERS_PER_STATEMENT = 8000;
const HOUR_MS = 3_600_000;

/** The fields of a ledger row the roll-up reads (an `llm_usage` insert row). */
export interface RollupSource {
  created_at: Date;
  provider: string;
  model: string;
  prompt_name?: string | null | undefined;
  prompt_version?: string | null | undefined;
  key_id?: string | null | undefined;
  team_id?: string | null | undefined;
  outcome: string;
  prompt_tokens?: number | undefined;
  completion_tokens?: number | undefined;
  total_tokens?: number | undefined;
  cost_usd?: number | undefined;
  latency_ms?: number | undefined;
}

interface Group {
  key: string;
  dimensions: Array<number | string>;
  sums: number[];
  classes: number[];
  firstMs: number;
  lastMs: number;
}

/** The latency class of `latencyMs`: the index of the first bound it does not exceed. */
export function latencyClassOf(latencyMs: number): number {
  for (let index = 0; index < LATENCY_BOUNDS_MS.length; index++) if (latencyMs <= LATENCY_BOUNDS_MS[index]!) return index;
  return LATENCY_BOUNDS_MS.length;
}

function dimensionOf(row: RollupSource, column: RollupGroupColumn): number | string {
  if (column === 'hour') return Math.floor(row.created_at.getTime() / HOUR_MS);
  return row[column] ?? '';
}

/** What `row` adds to `column`: a `continued` turn adds its tokens and cost, but is no call and no failure, and its latency (its call's) is counted by the call's last row. */
function addendOf(row: RollupSource, column: RollupSumColumn): number {
  if (column === 'calls') return endsCall(row.outcome) ? 1 : 0;
  if (column === 'failures') return isFailedOutcome(row.outcome) ? 1 : 0;
  if (column === 'latency_sum_ms') return endsCall(row.outcome) ? (row.latency_ms ?? 0) : 0;
  return row[column] ?? 0;
}

/** A group's key: each dimension with its length in front, so that no two groups share one. */
function groupKey(row: RollupSource, table: RollupTable): string {
  let key = '';
  for (const column of table.groupBy) {
    const value = dimensionOf(row, column);
    key += typeof value === 'number' ? `#${value}|` : `${value.length}:${value}|`;
  }
  return key;
}

/** `rows` summed per group of `table`, in a fixed order (so that concurrent writers lock groups in the same order). */
function groupsOf(table: RollupTable, rows: readonly RollupSource[]): Group[] {
  const groups = new Map<string, Group>();
  const sums = table.sums;
  for (const row of rows) {
    const ms = row.created_at.getTime();
    const key = groupKey(row, table);
    let group = groups.get(key);
    if (group === undefined) {
      const dimensions = table.groupBy.map((column) => dimensionOf(row, column));
      group = { key, dimensions, sums: new Array(sums.length).fill(0), classes: [], firstMs: ms, lastMs: ms };
      if (table.latencyClasses) group.classes = new Array(LATENCY_CLASS_COLUMNS.length).fill(0);
      groups.set(key, group);
    }
    for (let index = 0; index < sums.length; index++) group.sums[index]! += addendOf(row, sums[index]!);
    if (table.latencyClasses && endsCall(row.outcome)) group.classes[latencyClassOf(row.latency_ms ?? 0)]! += 1;
    if (ms < group.firstMs) group.firstMs = ms;
    if (ms > group.lastMs) group.lastMs = ms;
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The columns of `table` that are summed on conflict: its sums, then its latency classes. */
function addedColumns(table: RollupTable): string[] {
  return [...table.sums, ...(table.latencyClasses ? LATENCY_CLASS_COLUMNS : [])];
}

function insertColumns(table: RollupTable): string[] {
  return [...table.groupBy, ...addedColumns(table), ...(table.seen ? ['first_ms', 'last_ms'] : [])];
}

/** Each roll-up's upsert, per statement style: its text is built once, per group count. */
const upserts = new Map<string, MultiRowStatement>();

function upsertOf(table: RollupTable, style: StatementStyle): MultiRowStatement {
  const cacheKey = `${style} ${table.name} ${table.groupBy.join(',')}`;
  let statement = upserts.get(cacheKey);
  if (statement === undefined) {
    const name = quote(table.name);
    const updates = addedColumns(table).map((column) => `${quote(column)} = ${name}.${quote(column)} + excluded.${quote(column)}`);
    if (table.seen) {
      const [least, greatest] = style === 'sqlite' ? ['min', 'max'] : ['least', 'greatest'];
      updates.push(
        `"first_ms" = ${least}(${name}."first_ms", excluded."first_ms")`,
        `"last_ms" = ${greatest}(${name}."last_ms", excluded."last_ms")`,
      );
    }
    statement = new MultiRowStatement(
      table.name,
      insertColumns(table),
      `on conflict (${table.groupBy.map(quote).join(', ')}) do update set ${updates.join(', ')}`,
    );
    upserts.set(cacheKey, statement);
  }
  return statement;
}

/** Upserts the groups of `rows` into one roll-up table: on SQLite one prepared single-group statement per group. */
async function addToTable(
  transaction: Kysely<GroundworkTables>,
  table: RollupTable,
  rows: readonly RollupSource[],
  style: StatementStyle,
): Promise<void> {
  const groups = groupsOf(table, rows);
  const statement = upsertOf(table, style);
  const perStatement = style === 'sqlite' ? 1 : Math.floor(PARAMETERS_PER_STATEMENT / statement.columns);
  for (let start = 0; start < groups.length; start += perStatement) {
    const end = Math.min(groups.length, start + perStatement);
    const parameters: unknown[] = [];
    for (let index = start; index < end; index++) {
      const group = groups[index]!;
      parameters.push(...group.dimensions, ...group.sums);
      if (table.latencyClasses) parameters.push(...group.classes);
      if (table.seen) parameters.push(group.firstMs, group.lastMs);
    }
    await transaction.executeQuery(statement.compile(style, end - start, parameters));
  }
}

/**
 * Adds `rows` (just inserted into `llm_usage`) to every hourly roll-up (see `ROLLUP_TABLES`): one
 * upsert per table and group, tables and groups in a fixed order. Run it in the transaction that
 * inserts the rows, so that the roll-ups and the ledger never disagree.
 */
export async function addToRollup(
  transaction: Kysely<GroundworkTables>,
  rows: readonly RollupSource[],
  style: StatementStyle = statementStyle(transaction),
): Promise<void> {
  await addToRollupTables(transaction, ROLLUP_TABLES, rows, style);
}

/** Adds `rows` to each of `tables`, in the order given (the benchmark also times the wide roll-up of 0008 this way). */
export async function addToRollupTables(
  transaction: Kysely<GroundworkTables>,
  tables: readonly RollupTable[],
  rows: readonly RollupSource[],
  style: StatementStyle = statementStyle(transaction),
): Promise<void> {
  if (rows.length === 0) return;
  for (const table of tables) await addToTable(transaction, table, rows, style);
}

/** The hour number (epoch hours) of the ledger's `created_at`, in SQL. */
function hourOfCreatedAt(sqlite: boolean): RawBuilder<number> {
  return sqlite
    ? sql<number>`(cast(strftime('%s', created_at) as integer) / 3600)`
    : sql<number>`cast(floor(date_part('epoch', created_at) / 3600) as bigint)`;
}

/** `created_at` as epoch ms, in SQL. */
function msOfCreatedAt(sqlite: boolean): RawBuilder<number> {
  return sqlite
    ? sql<number>`cast(round((julianday(created_at) - 2440587.5) * 86400000) as integer)`
    : sql<number>`cast(round(date_part('epoch', created_at) * 1000) as bigint)`;
}

function groupExpression(column: RollupGroupColumn, sqlite: boolean): RawBuilder<unknown> {
  if (column === 'hour') return hourOfCreatedAt(sqlite);
  if (column === 'provider' || column === 'model' || column === 'outcome') return sql`${sql.ref(column)}`;
  return sql`coalesce(${sql.ref(column)}, '')`;
}

/** {@link addendOf}, summed in SQL. */
function sumExpression(column: RollupSumColumn): RawBuilder<unknown> {
  if (column === 'calls') return callCountSql();
  if (column === 'failures') return failureCountSql();
  if (column === 'latency_sum_ms') return sql`coalesce(sum(case when ${endsCallSql()} then latency_ms else 0 end), 0)`;
  return sql`coalesce(sum(${sql.ref(column)}), 0)`;
}

function classExpressions(): RawBuilder<unknown>[] {
  return LATENCY_CLASS_COLUMNS.map((_, index) => {
    const upper = LATENCY_BOUNDS_MS[index];
    const lower = index === 0 ? undefined : LATENCY_BOUNDS_MS[index - 1];
    const inClass =
      lower === undefined
        ? sql`latency_ms <= ${sql.lit(upper)}`
        : upper === undefined
          ? sql`latency_ms > ${sql.lit(lower)}`
          : sql`latency_ms > ${sql.lit(lower)} and latency_ms <= ${sql.lit(upper)}`;
    return sql`sum(case when ${endsCallSql()} and ${inClass} then 1 else 0 end)`;
  });
}

/**
 * Recomputes every hourly roll-up from `llm_usage`, for the hours from `fromMs` on (all hours when
 * left out), in one transaction: after rows were written to the ledger by hand (a backfill, a
 * restore). Answers the roll-up rows written, over all tables.
 */
export async function rebuildRollup(db: Kysely<GroundworkTables>, options: { fromMs?: number | undefined } = {}): Promise<number> {
  return db.transaction().execute((transaction) => refillRollupTables(transaction, ROLLUP_TABLES, options.fromMs));
}

/**
 * Recomputes the wide roll-up `llm_usage_hourly` alone, inside a transaction the caller holds:
 * migration 0008's `up` (nothing of this release writes that table after it).
 */
export async function refillRollup(transaction: Kysely<GroundworkTables>, fromMs: number | undefined): Promise<number> {
  return refillRollupTables(transaction, [WIDE_ROLLUP], fromMs);
}

/** Recomputes `tables` from `llm_usage` for the hours from `fromMs` on, inside a transaction the caller holds (a migration's). */
export async function refillRollupTables(
  transaction: Kysely<GroundworkTables>,
  tables: readonly RollupTable[],
  fromMs: number | undefined,
): Promise<number> {
  const sqlite = statementStyle(transaction) === 'sqlite';
  const fromHour = fromMs === undefined ? undefined : Math.floor(fromMs / HOUR_MS);
  const fromDate = fromHour === undefined ? undefined : new Date(fromHour * HOUR_MS);
  const ms = msOfCreatedAt(sqlite);
  let written = 0;
  for (const table of tables) {
    await sql`delete from ${sql.table(table.name)} ${fromHour === undefined ? sql`` : sql`where hour >= ${fromHour}`}`.execute(transaction);
    const selected = [
      ...table.groupBy.map((column) => groupExpression(column, sqlite)),
      ...table.sums.map(sumExpression),
      ...(table.latencyClasses ? classExpressions() : []),
      ...(table.seen ? [sql`min(${ms})`, sql`max(${ms})`] : []),
    ];
    const positions = table.groupBy.map((_, index) => sql.lit(index + 1));
    const inserted = await sql`insert into ${sql.table(table.name)} (${sql.join(insertColumns(table).map((column) => sql.ref(column)))})
      select ${sql.join(selected)}
      from llm_usage ${fromDate === undefined ? sql`` : sql`where created_at >= ${fromDate}`}
      group by ${sql.join(positions)}`.execute(transaction);
    written += Number(inserted.numAffectedRows ?? 0);
  }
  return written;
}
