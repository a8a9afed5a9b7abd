import { type Kysely, type RawBuilder, SqliteAdapter, sql } from 'kysely';
import type { GroundworkTables } from './groundwork-tables.js';

/**
 * Upper bounds of the latency classes, in ms. The dashboard reads percentiles from counts per
 * class (the same on the raw ledger and on the hourly roll-up), interpolated within the class.
 */
export const LATENCY_BOUNDS_MS = [
  25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000,
] as const;

/** The roll-up's latency class columns, `lat_0` … `lat_22` (the last: above the last bound). */
export const LATENCY_CLASS_COLUMNS: readonly string[] = Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, index) => `lat_${index}`);

/** The columns one roll-up row is grouped by. Missing prompt, version, key and team are stored as `''`. */
export const ROLLUP_GROUP_COLUMNS = ['hour', 'provider', 'model', 'prompt_name', 'prompt_version', 'key_id', 'team_id', 'outcome'] as const;

const ROLLUP_SUM_COLUMNS = ['calls', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'latency_sum_ms'] as const;

/** Groups per INSERT statement: 39 parameters each, under SQLite's and PostgreSQL's parameter limits. */
const GROUPS_PER_STATEMENT = 200;
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
  dimensions: [number, string, string, string, string, string, string, string];
  sums: [number, number, number, number, number, number];
  classes: number[];
  firstMs: number;
  lastMs: number;
}

/** The latency class of `latencyMs`: the index of the first bound it does not exceed. */
export function latencyClassOf(latencyMs: number): number {
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
  return index === -1 ? LATENCY_BOUNDS_MS.length : index;
}

function isSqlite(db: Kysely<GroundworkTables>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/** `rows` summed per hour and group, in a fixed order (so that concurrent writers lock groups in the same order). */
function groupsOf(rows: readonly RollupSource[]): Group[] {
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const ms = row.created_at.getTime();
    const dimensions: Group['dimensions'] = [
      Math.floor(ms / HOUR_MS),
      row.provider,
      row.model,
      row.prompt_name ?? '',
      row.prompt_version ?? '',
      row.key_id ?? '',
      row.team_id ?? '',
      row.outcome,
    ];
    const key = JSON.stringify(dimensions);
    let group = groups.get(key);
    if (group === undefined) {
      group = { key, dimensions, sums: [0, 0, 0, 0, 0, 0], classes: LATENCY_CLASS_COLUMNS.map(() => 0), firstMs: ms, lastMs: ms };
      groups.set(key, group);
    }
    const latency = row.latency_ms ?? 0;
    group.sums[0] += 1;
    group.sums[1] += row.prompt_tokens ?? 0;
    group.sums[2] += row.completion_tokens ?? 0;
    group.sums[3] += row.total_tokens ?? 0;
    group.sums[4] += row.cost_usd ?? 0;
    group.sums[5] += latency;
    group.classes[latencyClassOf(latency)] = (group.classes[latencyClassOf(latency)] ?? 0) + 1;
    group.firstMs = Math.min(group.firstMs, ms);
    group.lastMs = Math.max(group.lastMs, ms);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Adds `rows` (just inserted into `llm_usage`) to the hourly roll-up `llm_usage_hourly`: one
 * upsert per group of hour × provider × model × prompt × version × key × team × outcome. Run it in
 * the transaction that inserts the rows, so that the roll-up and the ledger never disagree.
 */
export async function addToRollup(transaction: Kysely<GroundworkTables>, rows: readonly RollupSource[]): Promise<void> {
  if (rows.length === 0) return;
  const groups = groupsOf(rows);
  const sqlite = isSqlite(transaction);
  const columns = [...ROLLUP_GROUP_COLUMNS, ...ROLLUP_SUM_COLUMNS, ...LATENCY_CLASS_COLUMNS, 'first_ms', 'last_ms'];
  const added = [...ROLLUP_SUM_COLUMNS, ...LATENCY_CLASS_COLUMNS].map(
    (column) => sql`${sql.ref(column)} = ${sql.ref(`llm_usage_hourly.${column}`)} + ${sql.ref(`excluded.${column}`)}`,
  );
  const [least, greatest] = sqlite ? ['min', 'max'] : ['least', 'greatest'];
  const bounds = [
    sql`first_ms = ${sql.raw(least)}(llm_usage_hourly.first_ms, excluded.first_ms)`,
    sql`last_ms = ${sql.raw(greatest)}(llm_usage_hourly.last_ms, excluded.last_ms)`,
  ];
  for (let start = 0; start < groups.length; start += GROUPS_PER_STATEMENT) {
    const values = groups
      .slice(start, start + GROUPS_PER_STATEMENT)
      .map((group) => sql`(${sql.join([...group.dimensions, ...group.sums, ...group.classes, group.firstMs, group.lastMs])})`);
    await sql`insert into llm_usage_hourly (${sql.join(columns.map((column) => sql.ref(column)))})
      values ${sql.join(values)}
      on conflict (${sql.join(ROLLUP_GROUP_COLUMNS.map((column) => sql.ref(column)))})
      do update set ${sql.join([...added, ...bounds])}`.execute(transaction);
  }
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

/**
 * Recomputes the hourly roll-up from `llm_usage`, for the hours from `fromMs` on (all hours when
 * left out), in one transaction: after rows were written to the ledger by hand (a backfill, a
 * restore), and by the migration that creates the roll-up. Answers the roll-up rows written.
 */
export async function rebuildRollup(db: Kysely<GroundworkTables>, options: { fromMs?: number | undefined } = {}): Promise<number> {
  return db.transaction().execute((transaction) => refillRollup(transaction, options.fromMs));
}

/** {@link rebuildRollup} inside a transaction the caller holds (a migration's). */
export async function refillRollup(transaction: Kysely<GroundworkTables>, fromMs: number | undefined): Promise<number> {
  const db = transaction;
  const options = { fromMs };
  const sqlite = isSqlite(db);
  const fromHour = options.fromMs === undefined ? undefined : Math.floor(options.fromMs / HOUR_MS);
  const fromDate = fromHour === undefined ? undefined : new Date(fromHour * HOUR_MS);
  const classes = [...LATENCY_BOUNDS_MS.map((bound) => sql`latency_ms <= ${sql.lit(bound)}`)];
  const classSums = LATENCY_CLASS_COLUMNS.map((_, index) => {
    const inClass =
      index === 0
        ? classes[0]
        : index === LATENCY_BOUNDS_MS.length
          ? sql`latency_ms > ${sql.lit(LATENCY_BOUNDS_MS.at(-1))}`
          : sql`latency_ms > ${sql.lit(LATENCY_BOUNDS_MS[index - 1])} and ${classes[index]}`;
    return sql`sum(case when ${inClass} then 1 else 0 end)`;
  });
  const columns = [...ROLLUP_GROUP_COLUMNS, ...ROLLUP_SUM_COLUMNS, ...LATENCY_CLASS_COLUMNS, 'first_ms', 'last_ms'];
  const hour = hourOfCreatedAt(sqlite);
  const ms = msOfCreatedAt(sqlite);
  {
    await sql`delete from llm_usage_hourly ${fromHour === undefined ? sql`` : sql`where hour >= ${fromHour}`}`.execute(transaction);
    const inserted = await sql`insert into llm_usage_hourly (${sql.join(columns.map((column) => sql.ref(column)))})
      select ${hour}, provider, model, coalesce(prompt_name, ''), coalesce(prompt_version, ''), coalesce(key_id, ''),
        coalesce(team_id, ''), outcome, count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
        coalesce(sum(total_tokens), 0), coalesce(sum(cost_usd), 0), coalesce(sum(latency_ms), 0), ${sql.join(classSums)}, min(${ms}), max(${ms})
      from llm_usage ${fromDate === undefined ? sql`` : sql`where created_at >= ${fromDate}`}
      group by 1, 2, 3, 4, 5, 6, 7, 8`.execute(transaction);
    return Number(inserted.numAffectedRows ?? 0);
  }
}
