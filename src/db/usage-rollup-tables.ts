/** The columns a roll-up row may be grouped by. Missing prompt, version, key and team are stored as `''`. */
export const ROLLUP_GROUP_COLUMNS = ['hour', 'provider', 'model', 'prompt_name', 'prompt_version', 'key_id', 'team_id', 'outcome'] as const;

/** A column a roll-up may be grouped by. */
export type RollupGroupColumn = (typeof ROLLUP_GROUP_COLUMNS)[number];

/**
 * A column a roll-up may sum: `calls` counts the rows that end a call (not `continued`),
 * `failures` the failed calls, `latency_sum_ms` sums the calls' `latency_ms`, the rest sum their
 * ledger column over every row (a `continued` turn's tokens and cost included).
 */
export type RollupSumColumn = 'calls' | 'failures' | 'prompt_tokens' | 'completion_tokens' | 'total_tokens' | 'cost_usd' | 'latency_sum_ms';

/** One hourly roll-up of the ledger: what it groups by and what it keeps per group. */
export interface RollupTable {
  name: 'llm_usage_hourly' | 'llm_usage_hourly_model' | 'llm_usage_hourly_key' | 'llm_usage_hourly_prompt';
  /** Always starts with `hour`; the table's primary key. */
  groupBy: readonly RollupGroupColumn[];
  sums: readonly RollupSumColumn[];
  /** Whether it counts calls per latency class, `lat_0` … `lat_22`. */
  latencyClasses: boolean;
  /** Whether it keeps each group's first and last call, `first_ms` and `last_ms` (epoch ms). */
  seen: boolean;
}

/**
 * The wide roll-up of migration 0008, keyed by every dimension. No panel reads it and this
 * release writes it no more; the table is kept so that processes of the previous release, which
 * upsert it in each ledger batch, keep working during a rolling upgrade, and a later migration
 * drops it. This shape serves 0008's `up`, which creates and fills it.
 */
export const WIDE_ROLLUP: RollupTable = {
  name: 'llm_usage_hourly',
  groupBy: ROLLUP_GROUP_COLUMNS,
  sums: ['calls', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'latency_sum_ms'],
  latencyClasses: true,
  seen: true,
};

/** Per hour × provider × model × outcome: the usage, latency and error series, and usage by model or provider. */
export const MODEL_ROLLUP: RollupTable = {
  name: 'llm_usage_hourly_model',
  groupBy: ['hour', 'provider', 'model', 'outcome'],
  sums: ['calls', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'latency_sum_ms'],
  latencyClasses: true,
  seen: false,
};

/** Per hour × key × team: usage by key, and spend per key and per team. */
export const KEY_ROLLUP: RollupTable = {
  name: 'llm_usage_hourly_key',
  groupBy: ['hour', 'key_id', 'team_id'],
  sums: ['calls', 'failures', 'total_tokens', 'cost_usd'],
  latencyClasses: false,
  seen: false,
};

/** Per hour × prompt × version: usage by prompt and each prompt version's figures. */
export const PROMPT_ROLLUP: RollupTable = {
  name: 'llm_usage_hourly_prompt',
  groupBy: ['hour', 'prompt_name', 'prompt_version'],
  sums: ['calls', 'failures', 'total_tokens', 'cost_usd', 'latency_sum_ms'],
  latencyClasses: false,
  seen: true,
};

/** The narrow roll-ups the dashboard's week and month panels read (migration 0010), each a few dozen rows an hour. */
export const NARROW_ROLLUPS: readonly RollupTable[] = [MODEL_ROLLUP, KEY_ROLLUP, PROMPT_ROLLUP];

/** Every roll-up the ledger's writes keep, in the fixed order they are written: the narrow ones. */
export const ROLLUP_TABLES: readonly RollupTable[] = NARROW_ROLLUPS;
