import type { ColumnType, Generated } from 'kysely';

/** The `llm_usage` ledger: one row per LLM call (see `UsageRecord`). */
export interface LlmUsageTable {
  id: Generated<number>;
  created_at: ColumnType<Date, Date, never>;
  /** `chat` or `embeddings` (the GenAI operation name). */
  operation: ColumnType<string, string | undefined, string>;
  provider: string;
  model: string;
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
}

/** The tables Groundwork owns, for typing queries against them. */
export interface GroundworkTables {
  llm_usage: LlmUsageTable;
}
