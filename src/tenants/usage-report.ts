import type { Kysely } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { callCountSql } from '../db/usage-outcome.js';
import { TenantInputError } from './tenant-errors.js';

/** What usage is grouped by. */
export type UsageGrouping = 'key' | 'team' | 'model' | 'prompt';

/** One group's usage over the period. */
export interface UsageRow {
  /** The key's or team's id, the model, or the prompt's name; null for calls without one. */
  group: string | null;
  /** The key's or team's name, when grouped by them and it still exists. */
  name: string | null;
  /** Calls: a multi-turn call (a tool loop) once; its tokens and cost are those of every turn. */
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

const COLUMN = { key: 'key_id', team: 'team_id', model: 'model', prompt: 'prompt_name' } as const;

/** The longest duration `parseSince` accepts: 100 years (36500d). */
export const LONGEST_SINCE_MS = 36_500 * 86_400_000;

/**
 * `7d`, `24h`, `30m` → a duration in ms, at most {@link LONGEST_SINCE_MS}. A duration it cannot
 * read, or a longer one, is a `TenantInputError` naming `parameter`: the CLI's `--since` (the
 * default), the admin API's `since`.
 */
export function parseSince(value: string, parameter = '--since'): number {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  const match = /^(\d+)([mhdw])$/.exec(value.trim());
  if (match === null) throw new TenantInputError(parameter, `"${shown}" is not a duration; use e.g. 30m, 24h, 7d or 4w`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'm' | 'h' | 'd' | 'w'];
  const ms = Number(match[1]) * unit;
  if (!(ms <= LONGEST_SINCE_MS))
    throw new TenantInputError(parameter, `"${shown}" is longer than 100 years (36500d); use a shorter duration`);
  return ms;
}

/** Calls, tokens and cost from the `llm_usage` ledger since `since`, by key, team, model or prompt, costliest first. */
export async function usageReport(db: Kysely<GroundworkTables>, options: { by: UsageGrouping; since: Date }): Promise<UsageRow[]> {
  const column = COLUMN[options.by];
  if (column === undefined) throw new TenantInputError('--by', `"${String(options.by)}" is not a grouping; use key, team, model or prompt`);
  const rows = await db
    .selectFrom('llm_usage')
    .select((select) => [
      `${column} as group`,
      callCountSql().as('calls'),
      select.fn.sum<string | number>('prompt_tokens').as('prompt_tokens'),
      select.fn.sum<string | number>('completion_tokens').as('completion_tokens'),
      select.fn.sum<string | number>('cost_usd').as('cost_usd'),
    ])
    .where('created_at', '>=', options.since)
    .groupBy(column)
    .execute();
  const names = await namesFor(
    db,
    options.by,
    rows.map((row) => row.group as string | null),
  );
  return rows
    .map((row) => {
      const group = row.group as string | null;
      return {
        group,
        name: group === null ? null : (names.get(group) ?? null),
        calls: Number(row.calls),
        promptTokens: Number(row.prompt_tokens ?? 0),
        completionTokens: Number(row.completion_tokens ?? 0),
        costUsd: Number(row.cost_usd ?? 0),
      };
    })
    .sort((a, b) => b.costUsd - a.costUsd || b.calls - a.calls);
}

async function namesFor(db: Kysely<GroundworkTables>, by: UsageGrouping, ids: Array<string | null>): Promise<Map<string, string>> {
  const wanted = ids.filter((id): id is string => id !== null);
  if (wanted.length === 0 || (by !== 'key' && by !== 'team')) return new Map();
  const table = by === 'key' ? 'groundwork_keys' : 'groundwork_teams';
  const rows = await db.selectFrom(table).select(['id', 'name']).where('id', 'in', wanted).execute();
  return new Map(rows.map((row) => [row.id, row.name]));
}
