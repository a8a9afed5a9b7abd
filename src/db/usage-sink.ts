import type { Kysely } from 'kysely';
import type { UsageRecord, UsageSink } from '../llm/usage-record.js';
import type { Database } from './database.js';
import type { GroundworkTables } from './groundwork-tables.js';
import { isRowRefusal } from './row-refusal.js';
import { addToRollup } from './usage-rollup.js';
import { MultiRowStatement, statementStyle } from './usage-statements.js';

/** Rows per INSERT statement on PostgreSQL and PGlite: well under their bound-parameter limit. */
const ROWS_PER_STATEMENT = 500;

/**
 * The ledger's columns, each with what an `undefined` value stands for: the column's default, as
 * the query builder's insert would have left it to the database (`null` where it has none).
 */
const LEDGER_COLUMNS: ReadonlyArray<readonly [LedgerColumn, unknown]> = [
  ['created_at', null],
  ['operation', 'chat'],
  ['provider', null],
  ['model', null],
  ['deployment', null],
  ['prompt_name', null],
  ['prompt_version', null],
  ['prompt_tokens', 0],
  ['completion_tokens', 0],
  ['total_tokens', 0],
  ['cached_prompt_tokens', 0],
  ['reasoning_tokens', 0],
  ['cost_usd', 0],
  ['latency_ms', 0],
  ['outcome', null],
  ['cache_hit', false],
  ['attempts', 1],
  ['request_id', null],
  ['key_id', null],
  ['team_id', null],
  ['prompt_text', null],
  ['answer_text', null],
];

type LedgerRow = ReturnType<typeof usageRow> & { job_id?: string | null };
type LedgerColumn = keyof ReturnType<typeof usageRow>;

const LEDGER_INSERT = new MultiRowStatement(
  'llm_usage',
  LEDGER_COLUMNS.map(([column]) => column),
);
const LEDGER_INSERT_WITH_JOB = new MultiRowStatement('llm_usage', [...LEDGER_COLUMNS.map(([column]) => column), 'job_id']);

/**
 * The usage ledger's sink: writes each batch into `llm_usage` in one transaction (several
 * multi-row INSERTs for a large batch), and adds it to the hourly roll-ups (`llm_usage_hourly_model`,
 * `_key` and `_prompt`) in the same transaction (one upsert per table, hour and group). Run the migrations first.
 *
 * Text values have each `NUL` character (`\u0000`) replaced by U+FFFD (see {@link writeUsageRows}).
 * Its `isRowRefusal` answers {@link isRowRefusal}: whether the database refused a row's values,
 * so that the ledger looks for the rows refused rather than losing the batch.
 */
export function createUsageSink<DB>(database: Pick<Database<DB>, 'db'>): UsageSink {
  const db = database.db as unknown as Kysely<GroundworkTables>;
  return {
    async writeBatch(records: readonly UsageRecord[]): Promise<void> {
      if (records.length === 0) return;
      const rows = records.map(usageRow);
      await db.transaction().execute((transaction) => writeUsageRows(transaction, rows));
    },
    isRowRefusal,
  };
}

/**
 * Inserts ledger rows inside the caller's transaction and adds them to the hourly roll-ups in the
 * same transaction. On SQLite one prepared single-row statement runs once per row (no round trip
 * to save); on PostgreSQL and PGlite, statements of at most 500 rows (a large batch's thousands of
 * rows would pass the bound-parameter limit in one).
 *
 * Each `NUL` character (`\u0000`) in a text value (model, provider, prompt name, request id,
 * outcome, key, prompt and answer text…) is written as U+FFFD, the replacement character, on every
 * dialect. PostgreSQL and PGlite refuse `NUL` in text, and a row is recorded for a call that failed
 * too, under the model name it asked for: a caller's `"model": "gpt-4o\u0000"` would otherwise make
 * its row unwritable. The row is kept rather than the call refused at the edge, since a `NUL` is
 * valid JSON text that may also come in a provider's answer; U+FFFD rather than nothing, so the row
 * does not pass for a call to the model the name was cut to.
 */
export async function writeUsageRows(transaction: Kysely<GroundworkTables>, unchecked: readonly LedgerRow[]): Promise<void> {
  if (unchecked.length === 0) return;
  const rows = unchecked.some(hasNul) ? unchecked.map(withoutNul) : unchecked;
  const style = statementStyle(transaction);
  const withJob = rows.some((row) => row.job_id !== undefined);
  const statement = withJob ? LEDGER_INSERT_WITH_JOB : LEDGER_INSERT;
  const perStatement = style === 'sqlite' ? 1 : ROWS_PER_STATEMENT;
  for (let start = 0; start < rows.length; start += perStatement) {
    const end = Math.min(rows.length, start + perStatement);
    const parameters: unknown[] = [];
    for (let index = start; index < end; index++) pushLedgerRow(parameters, rows[index]!, withJob);
    await transaction.executeQuery(statement.compile(style, end - start, parameters));
  }
  await addToRollup(transaction, rows, style);
}

const NUL = '\u0000';

function hasNul(row: LedgerRow): boolean {
  for (const column in row) {
    const value = row[column as keyof LedgerRow];
    if (typeof value === 'string' && value.includes(NUL)) return true;
  }
  return false;
}

/** The row with each `NUL` in its text values replaced by U+FFFD. */
function withoutNul(row: LedgerRow): LedgerRow {
  const copy: Record<string, unknown> = { ...row };
  for (const [column, value] of Object.entries(copy)) if (typeof value === 'string') copy[column] = value.replaceAll(NUL, '\uFFFD');
  return copy as LedgerRow;
}

function pushLedgerRow(parameters: unknown[], row: LedgerRow, withJob: boolean): void {
  for (const [column, absent] of LEDGER_COLUMNS) {
    const value = row[column];
    parameters.push(value === undefined ? absent : value);
  }
  if (withJob) parameters.push(row.job_id ?? null);
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
