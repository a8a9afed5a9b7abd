import { type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type { GroundworkTables, LlmUsageTable } from '../db/groundwork-tables.js';
import { failedSql } from '../db/usage-outcome.js';
import { DashboardInputError } from './dashboard-input-error.js';
import type { CallDetail, CallRow } from './dashboard-wire.js';
import { keyNames } from './usage-breakdown.js';

export type { CallDetail, CallRow } from './dashboard-wire.js';

/** Which calls to list. */
export interface CallQuery {
  /** Text found (case-insensitively, `%` and `_` as themselves) in the model, provider, prompt name, outcome, request id, key id or key name. */
  search?: string | undefined;
  /** Only rows with this outcome (`success`, `continued`, or an error code); `failed`: every failed call (not `success`, not `continued`). */
  outcome?: string | undefined;
  /** Calls listed after the call of this id: older, or as old with a smaller id (the `next` cursor of the previous page). */
  before?: number | undefined;
  /** Rows per page. @default 50, at most 200 */
  limit?: number | undefined;
}

/** A page of calls, newest first, and the cursor of the next page (undefined on the last). */
export interface CallPage {
  data: CallRow[];
  next: number | undefined;
}

/**
 * Recent calls from the ledger, newest first by time, then by id: a row is not always written in
 * the order its call began. Paged by a cursor, the id of the last row listed, so that deep pages
 * cost what the first does.
 */
export async function listCalls(db: Kysely<GroundworkTables>, query: CallQuery): Promise<CallPage> {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new DashboardInputError('limit', 'use a whole number from 1 to 200');
  if (query.before !== undefined && (!Number.isSafeInteger(query.before) || query.before < 1))
    throw new DashboardInputError('before', 'use the "next" of the previous page');
  const search = query.search?.trim().toLowerCase().slice(0, 100);
  let select = db
    .selectFrom('llm_usage')
    .select(LISTED)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  const before = query.before;
  if (before !== undefined) {
    const at = db.selectFrom('llm_usage').select('created_at').where('id', '=', before);
    // `created_at <= at` on its own, so that the index on created_at bounds the scan.
    select = select.where('created_at', '<=', at).where((where) => where.or([where('created_at', '<', at), where('id', '<', before)]));
  }
  if (query.outcome === 'failed') select = select.where(failedSql());
  else if (query.outcome !== undefined && query.outcome !== '') select = select.where('outcome', '=', query.outcome);
  if (search !== undefined && search !== '') {
    // `\` escapes `%`, `_` and itself; PostgreSQL's LIKE escapes with it by default, SQLite's only when told.
    const pattern = sql`${`%${search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`} escape '\\'`;
    const matches = (column: string) => sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern}`;
    select = select.where((where) =>
      where.or([
        ...SEARCHED.map(matches),
        where('key_id', 'in', where.selectFrom('groundwork_keys').select('groundwork_keys.id').where(matches('name'))),
      ]),
    );
  }
  const rows = await select.execute();
  const page = rows.slice(0, limit);
  const names = await keyNames(
    db,
    page.map((row) => row.key_id),
  );
  return {
    data: page.map((row) => callRow(row, names)),
    next: rows.length > limit ? Number(page.at(-1)?.id) : undefined,
  };
}

/**
 * One call with its prompt and answer text: the text only when `showContent` (the service runs
 * with `LLM_LOG_CONTENT=true`), and only if it was stored (it is written only then). Undefined when
 * no call has that id.
 */
export async function callDetail(db: Kysely<GroundworkTables>, id: number, showContent: boolean): Promise<CallDetail | undefined> {
  if (!Number.isSafeInteger(id) || id < 1) throw new DashboardInputError('id', 'use the id of a call from the list');
  const row = await db
    .selectFrom('llm_usage')
    .select([...LISTED, 'prompt_text', 'answer_text'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const names = await keyNames(db, [row.key_id]);
  return {
    ...callRow(row, names),
    contentLogged: showContent,
    promptText: showContent ? row.prompt_text : null,
    answerText: showContent ? row.answer_text : null,
  };
}

/** The ledger columns a search looks in (besides the key's name). */
const SEARCHED = ['model', 'provider', 'prompt_name', 'outcome', 'request_id', 'key_id'] as const;

const LISTED = [
  'id',
  'created_at',
  'operation',
  'provider',
  'model',
  'prompt_name',
  'prompt_version',
  'key_id',
  'prompt_tokens',
  'completion_tokens',
  'cost_usd',
  'latency_ms',
  'outcome',
  'attempts',
  'cache_hit',
  'request_id',
] as const;

type ListedRow = Pick<Selectable<LlmUsageTable>, (typeof LISTED)[number]>;

function callRow(row: ListedRow, names: Map<string, string>): CallRow {
  return {
    id: Number(row.id),
    createdAt: new Date(row.created_at).toISOString(),
    operation: row.operation,
    provider: row.provider,
    model: row.model,
    promptName: row.prompt_name,
    promptVersion: row.prompt_version,
    keyId: row.key_id,
    keyName: row.key_id === null ? null : (names.get(row.key_id) ?? null),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    costUsd: Number(row.cost_usd),
    latencyMs: Number(row.latency_ms),
    outcome: row.outcome,
    attempts: Number(row.attempts),
    cacheHit: Boolean(row.cache_hit),
    requestId: row.request_id,
  };
}
