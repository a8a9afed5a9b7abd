import type { Kysely } from 'kysely';
import type { UsageRecord, UsageSink } from '../llm/usage-record.js';
import type { Database } from './database.js';
import type { GroundworkTables } from './groundwork-tables.js';
import { addToRollup } from './usage-rollup.js';

/** Rows per INSERT statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const ROWS_PER_STATEMENT = 500;

/**
 * The usage ledger's sink: writes each batch into `llm_usage` in one transaction (several
 * multi-row INSERTs for a large batch), and adds it to the hourly roll-ups (`llm_usage_hourly_model`,
 * `_key` and `_prompt`) in the same transaction (one upsert per table, hour and group). Run the migrations first.
 */
export function createUsageSink<DB>(database: Pick<Database<DB>, 'db'>): UsageSink {
  const db = database.db as unknown as Kysely<GroundworkTables>;
  return {
    async writeBatch(records: readonly UsageRecord[]): Promise<void> {
      if (records.length === 0) return;
      const rows = records.map(usageRow);
      await db.transaction().execute((transaction) => writeUsageRows(transaction, rows));
    },
  };
}

/**
 * Inserts ledger rows inside the caller's transaction, in statements of at most 500 rows (a large
 * batch's thousands of rows would pass the databases' bound-parameter limits in one), and adds
 * them to the hourly roll-ups in the same transaction.
 */
export async function writeUsageRows(
  transaction: Kysely<GroundworkTables>,
  rows: ReadonlyArray<ReturnType<typeof usageRow> & { job_id?: string | null }>,
): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    await transaction
      .insertInto('llm_usage')
      .values(rows.slice(start, start + ROWS_PER_STATEMENT))
      .execute();
  }
  await addToRollup(transaction, rows);
}

/** The `llm_usage` row of one usage record. */
export function usageRow(record: UsageRecord) {
  return {
    created_at: record.createdAt,
    operation: record.operation ?? 'chat',
    provider: record.provider,
    model: record.model,
    deployment: record.deployment ?? null,
    prompt_name: record.promptName,
    prompt_version: record.promptVersion,
    prompt_tokens: record.promptTokens,
    completion_tokens: record.completionTokens,
    total_tokens: record.totalTokens,
    cached_prompt_tokens: record.cachedPromptTokens,
    reasoning_tokens: record.reasoningTokens,
    cost_usd: record.costUsd,
    latency_ms: record.latencyMs,
    outcome: record.outcome,
    cache_hit: record.cacheHit,
    attempts: record.attempts,
    request_id: record.requestId,
    key_id: record.keyId ?? null,
    team_id: record.teamId ?? null,
    prompt_text: record.promptText ?? null,
    answer_text: record.answerText ?? null,
  };
}
