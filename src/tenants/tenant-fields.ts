import { TenantInputError, type TenantInputProblem, type TenantKind } from './tenant-errors.js';
import { checkName } from './tenant-name.js';
import { settingsToRow, type TenantSettings } from './tenant-settings.js';

/** The fields a team's body may carry when it is created or updated, in the order a refusal lists them. */
export const TEAM_FIELDS: readonly string[] = [
  'name',
  'metadata',
  'allowedModels',
  'requestsPerMinute',
  'tokensPerMinute',
  'maxConcurrent',
  'dailyBudgetUsd',
  'monthlyBudgetUsd',
  'totalBudgetUsd',
  'enabled',
];

/** The fields a key's body may carry: a team's, plus its team and expiry. */
export const KEY_FIELDS: readonly string[] = [...TEAM_FIELDS, 'team', 'expiresAt'];

/** How many unknown fields a refusal names before it says how many more there are. */
const NAMED = 5;
/** How much of an unknown field's name a refusal repeats. */
const NAME_CHARS = 60;

/**
 * The settings of a key's or team's body, as the repository takes them (it checks their values,
 * every bad one at once): the fields of {@link KEY_FIELDS} or {@link TEAM_FIELDS} that are set,
 * with a key's `expiresAt` made a `Date` (`null` kept: no expiry).
 *
 * @throws TenantInputError when the body has a field the kind does not (a typo, another kind's
 *   field, a read-only one such as `id`): it is refused, not dropped. The message names the first
 *   five such fields and says how many more there are.
 * @throws TenantInputError when a key's `expiresAt` is not after `now`: the key would be refused
 *   from its first call. The refusal names every other bad field too.
 */
export function tenantFields(body: Record<string, unknown>, kind: TenantKind, now: Date = new Date()): Record<string, unknown> {
  const accepted = kind === 'key' ? KEY_FIELDS : TEAM_FIELDS;
  const unknown = Object.keys(body).filter((field) => !accepted.includes(field));
  if (unknown.length > 0) {
    const named = unknown.slice(0, NAMED).map((field) => (field.length > NAME_CHARS ? `${field.slice(0, NAME_CHARS)}…` : field));
    const more = unknown.length > NAMED ? ` and ${unknown.length - NAMED} more` : '';
    throw new TenantInputError(
      `${named.join(', ')}${more}`,
      `not ${unknown.length === 1 ? 'a field' : 'fields'} of a ${kind}; the fields are ${accepted.join(', ')}`,
    );
  }
  const input: Record<string, unknown> = {};
  for (const field of accepted) if (body[field] !== undefined) input[field] = body[field];
  if (input['expiresAt'] !== undefined && input['expiresAt'] !== null) input['expiresAt'] = new Date(String(input['expiresAt']));
  const past = pastExpiry(input['expiresAt'], now);
  if (past !== undefined) {
    const problems: TenantInputProblem[] = [
      { field: 'expiresAt', message: `${past}, or null for none; to stop a key now, revoke it or set enabled to false` },
    ];
    throw new TenantInputError([...problems, ...otherProblems(input)]);
  }
  return input;
}

/**
 * What is wrong with a key's expiry that is not after `now`, or undefined when it is later (or
 * none, or not a date, which the repository refuses). Such a key would be refused from its first
 * call: created, or changed, dead at once without a word.
 */
export function pastExpiry(expiresAt: unknown, now: Date): string | undefined {
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() > now.getTime()) return undefined;
  return `${expiresAt.toISOString()} is already past, so the key would be refused from its first call; give a later time`;
}

/** The problems the repository would find in the rest of `input`, so that a refusal made before it still names every bad field. */
function otherProblems(input: Record<string, unknown>): TenantInputProblem[] {
  const { name, team: _team, expiresAt: _expiresAt, ...settings } = input;
  try {
    settingsToRow(settings as Partial<TenantSettings>, name === undefined ? [] : [() => checkName(name as string)]);
    return [];
  } catch (error) {
    if (error instanceof TenantInputError) return [...error.problems];
    throw error;
  }
}
