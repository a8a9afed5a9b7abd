import type { ColumnType, Generated, Kysely } from 'kysely';

/** A `bigint` column: written as a number, read back as a string by `pg` (a number elsewhere). */
type BigCount = ColumnType<string | number, number, number>;

/** The `llm_usage` ledger: one row per LLM call (see `UsageRecord`). */
export interface LlmUsageTable {
  id: Generated<number>;
  created_at: ColumnType<Date, Date, never>;
  /** `chat` or `embeddings` (the GenAI operation name). */
  operation: ColumnType<string, string | undefined, string>;
  provider: string;
  model: string;
  /** The deployment of a model group that answered, if the call was routed through one. */
  deployment: ColumnType<string | null, string | null | undefined, string | null>;
  prompt_name: string | null;
  prompt_version: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_prompt_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  latency_ms: number;
  /** `success`, or the error's code. */
  outcome: string;
  cache_hit: boolean;
  attempts: number;
  request_id: string | null;
  /** The virtual key that made the call, if any. */
  key_id: string | null;
  /** The team of that key, if any. */
  team_id: string | null;
  /** The job the call was made for, if any: written with the job's outcome, in the same transaction. */
  job_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The request's messages as JSON: written only with `LLM_LOG_CONTENT=true`, else null. */
  prompt_text: ColumnType<string | null, string | null | undefined, string | null>;
  /** The answer's text: written only with `LLM_LOG_CONTENT=true`, else null. */
  answer_text: ColumnType<string | null, string | null | undefined, string | null>;
}

/**
 * `llm_usage_hourly_model`: the ledger summed per hour × provider × model × outcome, with the
 * latency class counts `lat_0` … `lat_22` (read with raw SQL), written with the ledger rows.
 */
export interface LlmUsageHourlyModelTable {
  hour: BigCount;
  provider: string;
  model: string;
  outcome: string;
  calls: BigCount;
  prompt_tokens: BigCount;
  completion_tokens: BigCount;
  total_tokens: BigCount;
  cost_usd: number;
  latency_sum_ms: number;
}

/** `llm_usage_hourly_key`: the ledger summed per hour × key × team (missing key and team as `''`). */
export interface LlmUsageHourlyKeyTable {
  hour: BigCount;
  key_id: string;
  team_id: string;
  calls: BigCount;
  /** Calls whose outcome is not `success`. */
  failures: BigCount;
  total_tokens: BigCount;
  cost_usd: number;
}

/** `llm_usage_hourly_prompt`: the ledger summed per hour × prompt × version (missing ones as `''`). */
export interface LlmUsageHourlyPromptTable {
  hour: BigCount;
  prompt_name: string;
  prompt_version: string;
  calls: BigCount;
  /** Calls whose outcome is not `success`. */
  failures: BigCount;
  total_tokens: BigCount;
  cost_usd: number;
  latency_sum_ms: number;
  /** The group's first and last call, epoch ms. */
  first_ms: BigCount;
  last_ms: BigCount;
}

/** The columns keys and teams share: what they may use and spend. */
export interface TenantSettingsColumns {
  metadata: Record<string, unknown> | null;
  /** Model names or groups; null: any model. Written as JSON text (`pg` would send an array as a PostgreSQL array). */
  allowed_models: ColumnType<string[] | null, string | null, string | null>;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_concurrent: number | null;
  budget_daily_usd: number | null;
  budget_monthly_usd: number | null;
  budget_total_usd: number | null;
  enabled: boolean;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
}

/** `groundwork_teams`: a group of keys whose limits and budgets bound them together. */
export interface TeamsTable extends TenantSettingsColumns {
  id: string;
  name: string;
}

/** `groundwork_keys`: virtual keys, stored as SHA-256 digests. */
export interface KeysTable extends TenantSettingsColumns {
  id: string;
  name: string;
  /** Hex SHA-256 of the plain key; the plain key itself is never stored. */
  digest: string;
  /** The first characters of the plain key, for people to recognise it; not enough to use it. */
  prefix: string;
  team_id: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** `groundwork_admin_audit`: who changed what, when. */
export interface AdminAuditTable {
  id: Generated<number>;
  created_at: ColumnType<Date, Date, never>;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown> | null;
}

/** `groundwork_budget_counters`: settled spend per budget and period, in nano-USD. */
export interface BudgetCountersTable {
  counter: string;
  /** int8: read back as a string by PostgreSQL, a number by SQLite; read it with `Number()`. */
  spent_nano: BigCount;
  /** When the counter's period is over (its end plus a margin) and the row may be deleted; null: kept (total budgets). */
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** `groundwork_budget_reservations`: one row per reservation and budget counter, each with its lease. */
export interface BudgetReservationsTable {
  id: string;
  counter: string;
  amount_nano: BigCount;
  expires_at: Date;
}

/** `groundwork_jobs`: the embedded job queue (SQLite, PGlite). JSON columns are written as JSON text. */
export interface JobsTable {
  id: string;
  name: string;
  data: ColumnType<unknown, string, string>;
  /** `created`, `retry`, `active`, `completed`, `cancelled` or `failed` (dead-lettered). */
  state: string;
  priority: number;
  run_at: Date;
  /** Runs started. */
  attempts: number;
  retry_limit: number;
  retry_delay_ms: number;
  retry_backoff: boolean;
  timeout_ms: number;
  result_ttl_ms: number | null;
  /** Which run holds the lease (until `started_at` + `timeout_ms`): only that run may complete or fail the job. */
  run_token: string | null;
  output: ColumnType<unknown, string | null, string | null>;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  /** When a finished job (and its result) is deleted. */
  keep_until: Date | null;
}

/** The tables Groundwork owns, for typing queries against them. */
export interface GroundworkTables {
  llm_usage: LlmUsageTable;
  llm_usage_hourly_model: LlmUsageHourlyModelTable;
  llm_usage_hourly_key: LlmUsageHourlyKeyTable;
  llm_usage_hourly_prompt: LlmUsageHourlyPromptTable;
  groundwork_teams: TeamsTable;
  groundwork_keys: KeysTable;
  groundwork_admin_audit: AdminAuditTable;
  groundwork_budget_counters: BudgetCountersTable;
  groundwork_budget_reservations: BudgetReservationsTable;
  groundwork_jobs: JobsTable;
}

/** The same query builder, typed for Groundwork's own tables (which every migrated database has). */
export function groundworkTables<DB>(db: Kysely<DB>): Kysely<GroundworkTables> {
  return db as unknown as Kysely<GroundworkTables>;
}
