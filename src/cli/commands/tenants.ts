import { createInfrastructure } from '../../create-infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import type { RebuiltBudget, TenantServices } from '../../tenants/create-tenant-services.js';
import type { Team } from '../../tenants/team.js';
import { TenantInputError, type TenantInputProblem } from '../../tenants/tenant-errors.js';
import { pastExpiry } from '../../tenants/tenant-fields.js';
import type { TenantRepository } from '../../tenants/tenant-repository.js';
import type { TenantSettings } from '../../tenants/tenant-settings.js';
import { keyStatus, type VirtualKey } from '../../tenants/virtual-key.js';
import type { CommandIo } from '../output.js';
import { prepareDatabase } from './prepare-database.js';

/** The flags `keys`/`teams` create and update take, as typed on the command line. */
export interface TenantFlags {
  name?: string | undefined;
  team?: string | undefined;
  models?: string | undefined;
  rpm?: string | undefined;
  tpm?: string | undefined;
  concurrency?: string | undefined;
  daily?: string | undefined;
  monthly?: string | undefined;
  total?: string | undefined;
  expires?: string | undefined;
  metadata?: string | undefined;
  enable?: boolean | undefined;
  disable?: boolean | undefined;
  json: boolean;
}

const ACTOR = 'cli';

/** `groundwork keys <action> [name|id]`: manages virtual keys in the configured database. */
export async function keysCommand(action: string, reference: string | undefined, flags: TenantFlags, io: CommandIo): Promise<number> {
  return withRepository(io, !READS.has(action), async (repository, tenants) => {
    switch (action) {
      case 'list':
        return printKeys(io, await repository.listKeys(flags.team === undefined ? {} : { team: flags.team }), flags.json);
      case 'show':
        return printKeys(io, [await repository.showKey(required(reference))], flags.json);
      case 'create': {
        const issued = await repository.createKey(
          { ...flagChanges(flags, 'key'), name: required(reference ?? flags.name) },
          { actor: ACTOR },
        );
        return printIssued(io, issued.key, issued.plainKey.reveal(), flags.json);
      }
      case 'update':
        return printKeys(
          io,
          [await repository.updateKey(required(reference), { ...flagChanges(flags, 'key'), ...rename(flags) }, { actor: ACTOR })],
          flags.json,
        );
      case 'revoke':
        return printKeys(io, [await repository.revokeKey(required(reference), { actor: ACTOR })], flags.json);
      case 'rotate': {
        const issued = await repository.rotateKey(required(reference), { actor: ACTOR });
        return printIssued(io, issued.key, issued.plainKey.reveal(), flags.json);
      }
      case 'rebuild-budgets':
        return printRebuilt(io, await tenants.rebuildBudgets('key', required(reference)), flags.json);
      default:
        throw new TenantInputError(
          'action',
          `unknown keys action "${action}": use create, list, show, update, revoke, rotate or rebuild-budgets`,
        );
    }
  });
}

/** `groundwork teams <action> [name|id]`: manages teams in the configured database. */
export async function teamsCommand(action: string, reference: string | undefined, flags: TenantFlags, io: CommandIo): Promise<number> {
  return withRepository(io, !READS.has(action), async (repository, tenants) => {
    switch (action) {
      case 'list':
        return printTeams(io, await repository.listTeams(), flags.json);
      case 'show':
        return printTeams(io, [await repository.showTeam(required(reference))], flags.json);
      case 'create':
        return printTeams(
          io,
          [await repository.createTeam({ ...flagChanges(flags, 'team'), name: required(reference ?? flags.name) }, { actor: ACTOR })],
          flags.json,
        );
      case 'update':
        return printTeams(
          io,
          [await repository.updateTeam(required(reference), { ...flagChanges(flags, 'team'), ...rename(flags) }, { actor: ACTOR })],
          flags.json,
        );
      case 'delete':
        await repository.deleteTeam(required(reference), { actor: ACTOR });
        io.out(`Deleted team "${reference}".`);
        return 0;
      case 'rebuild-budgets':
        return printRebuilt(io, await tenants.rebuildBudgets('team', required(reference)), flags.json);
      default:
        throw new TenantInputError('action', `unknown teams action "${action}": use create, list, show, update, delete or rebuild-budgets`);
    }
  });
}

/** Actions that change nothing, so there is nothing to announce. */
const READS = new Set(['list', 'show', 'rebuild-budgets']);

/**
 * Runs an action on the configured database; after a change, with `REDIS_URL` set, announces it
 * over Redis pub/sub so every running `serve` drops its cached keys at once (else they see it
 * within `TENANT_KEY_CACHE_TTL_MS`).
 */
async function withRepository(
  io: CommandIo,
  changes: boolean,
  run: (repository: TenantRepository, tenants: TenantServices) => Promise<number>,
): Promise<number> {
  const infrastructure = await createInfrastructure({ env: io.env, isTty: io.isTty, logger: silentLogger() });
  try {
    await prepareDatabase(infrastructure);
    const code = await run(infrastructure.tenants.repository, infrastructure.tenants).catch((error: unknown) => {
      throw error instanceof TenantInputError ? inFlagTerms(error) : error;
    });
    if (changes && infrastructure.redis !== undefined && !(await infrastructure.tenants.changed())) {
      io.err(
        `Warning: the change is saved, but announcing it over Redis failed; running services apply it within ${infrastructure.config.tenants.keyCacheTtlMs} ms.`,
      );
    }
    return code;
  } finally {
    await infrastructure.close();
  }
}

/** The flag that sets each of a key's or team's fields. */
const FIELD_FLAGS: Record<string, string> = {
  requestsPerMinute: '--rpm',
  tokensPerMinute: '--tpm',
  maxConcurrent: '--concurrency',
  dailyBudgetUsd: '--daily',
  monthlyBudgetUsd: '--monthly',
  totalBudgetUsd: '--total',
  allowedModels: '--models',
  metadata: '--metadata',
  expiresAt: '--expires',
  enabled: '--enable',
};

/**
 * The repository's refusal as the command line gives it: each field by its flag, and the word the
 * flag takes (`none`, `any`) where the stored field takes null.
 */
function inFlagTerms(error: TenantInputError): TenantInputError {
  return new TenantInputError(
    error.problems.map(({ field, message }) => ({
      field: FIELD_FLAGS[field] ?? field,
      message: message.replace('or null for any model', 'or any for every model').replace(/\bor null for\b/, 'or none for'),
    })),
  );
}

function required(reference: string | undefined): string {
  if (reference === undefined || reference === '') throw new TenantInputError('name', 'give the name or id of the key or team');
  return reference;
}

function rename(flags: TenantFlags): { name?: string } {
  return flags.name === undefined ? {} : { name: flags.name };
}

/** The changes the flags give (for a key, its team and expiry too), every bad flag refused at once. */
function flagChanges(flags: TenantFlags, kind: 'key' | 'team'): Partial<TenantSettings> & KeyFields {
  const problems: TenantInputProblem[] = [];
  const changes = { ...settings(flags, problems), ...(kind === 'key' ? keyFields(flags, problems) : {}) };
  if (problems.length > 0) throw new TenantInputError(problems);
  return changes;
}

type KeyFields = { team?: string | null; expiresAt?: Date | null };

function keyFields(flags: TenantFlags, problems: TenantInputProblem[]): KeyFields {
  const fields: KeyFields = {};
  if (flags.team !== undefined) fields.team = flags.team === 'none' ? null : flags.team;
  if (flags.expires !== undefined) {
    const expires = flags.expires === 'never' ? null : expiryDate(flags.expires);
    const past = pastExpiry(expires, new Date());
    if (expires === undefined)
      problems.push({
        field: '--expires',
        message: `"${flags.expires}" is not a date; use e.g. 2030-01-31, 2030-01-31T18:00:00Z or never`,
      });
    else if (past !== undefined)
      problems.push({
        field: '--expires',
        message: `"${flags.expires}": ${past}, or never; to stop a key now, use groundwork keys revoke or update --disable`,
      });
    else fields.expiresAt = expires;
  }
  return fields;
}

/** `YYYY-MM-DD`, optionally with a time (`T18:00`, `T18:00:00.000`) and a zone (`Z`, `+02:00`). */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/i;

/**
 * An `--expires` value as a date, or undefined when it is not an ISO date of the calendar: `Date`
 * alone reads `3` as March 2001 and rolls `2030-02-31` into March, so a key would expire on a day
 * nobody gave (or already have expired) without a word.
 */
function expiryDate(value: string): Date | undefined {
  const match = ISO_DATE.exec(value.trim());
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const date = new Date(value.trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * A number as people type one: decimal digits, with a sign or a fraction (the repository then says
 * which a limit or budget takes). `Number()` alone reads `0x10` as 16, `1e3` as 1000 and `0b1` as 1,
 * so a slip would set a limit or a budget nobody wrote.
 */
const DECIMAL = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** The settings given as flags; `none` clears a limit or budget. Each bad flag is added to `problems`. */
function settings(flags: TenantFlags, problems: TenantInputProblem[]): Partial<TenantSettings> {
  const changes: Partial<TenantSettings> = {};
  const number = (flag: string, value: string | undefined): number | null | undefined => {
    if (value === undefined) return undefined;
    if (value === 'none') return null;
    if (DECIMAL.test(value.trim())) return Number(value.trim());
    problems.push({
      field: flag,
      message: `"${value}" is not a number in decimal digits (such as 100 or 2.50); give one, or none for no limit`,
    });
    return undefined;
  };
  const assign = <K extends keyof TenantSettings>(field: K, value: TenantSettings[K] | undefined) => {
    if (value !== undefined) changes[field] = value;
  };
  assign('requestsPerMinute', number('--rpm', flags.rpm));
  assign('tokensPerMinute', number('--tpm', flags.tpm));
  assign('maxConcurrent', number('--concurrency', flags.concurrency));
  assign('dailyBudgetUsd', number('--daily', flags.daily));
  assign('monthlyBudgetUsd', number('--monthly', flags.monthly));
  assign('totalBudgetUsd', number('--total', flags.total));
  if (flags.models !== undefined) {
    const models = flags.models
      .split(',')
      .map((model) => model.trim())
      .filter((model) => model !== '');
    // No model at all (an unset variable in --models "$MODELS") would admit none: the key or team locked out in silence.
    if (models.length === 0) problems.push({ field: '--models', message: 'give model names separated by commas, or any for every model' });
    else changes.allowedModels = flags.models === 'any' ? null : models;
  }
  if (flags.metadata !== undefined) {
    try {
      changes.metadata = JSON.parse(flags.metadata) as Record<string, unknown>;
    } catch {
      problems.push({ field: '--metadata', message: 'must be a JSON object, e.g. \'{"owner":"search"}\'' });
    }
  }
  if (flags.enable === true && flags.disable === true)
    problems.push({ field: '--enable', message: 'give --enable or --disable, not both' });
  else if (flags.enable === true) changes.enabled = true;
  else if (flags.disable === true) changes.enabled = false;
  return changes;
}

function printIssued(io: CommandIo, key: VirtualKey, plain: string, json: boolean): number {
  if (json) {
    io.out(JSON.stringify({ key, plainKey: plain }, null, 2));
    return 0;
  }
  printKeys(io, [key], false);
  io.err('The key below is shown this once; store it now (only its digest is kept):');
  io.out(plain);
  return 0;
}

const usd = (value: number | null) => (value === null ? '-' : `$${value}`);
const count = (value: number | null) => (value === null ? '-' : String(value));

function printKeys(io: CommandIo, keys: readonly VirtualKey[], json: boolean): number {
  if (json) {
    io.out(JSON.stringify(keys, null, 2));
    return 0;
  }
  if (keys.length === 0) {
    io.out('No keys.');
    return 0;
  }
  const now = new Date();
  const rows = keys.map((key) => [
    key.name,
    key.id,
    key.prefix,
    keyStatus(key, now),
    key.teamId ?? '-',
    key.allowedModels?.join(',') ?? 'any',
    `${count(key.requestsPerMinute)}/${count(key.tokensPerMinute)}/${count(key.maxConcurrent)}`,
    `${usd(key.dailyBudgetUsd)}/${usd(key.monthlyBudgetUsd)}/${usd(key.totalBudgetUsd)}`,
    key.expiresAt?.toISOString() ?? 'never',
  ]);
  table(io, ['NAME', 'ID', 'PREFIX', 'STATUS', 'TEAM', 'MODELS', 'RPM/TPM/CONC', 'DAY/MONTH/TOTAL', 'EXPIRES'], rows);
  return 0;
}

function printTeams(io: CommandIo, teams: readonly Team[], json: boolean): number {
  if (json) {
    io.out(JSON.stringify(teams, null, 2));
    return 0;
  }
  if (teams.length === 0) {
    io.out('No teams.');
    return 0;
  }
  const rows = teams.map((team) => [
    team.name,
    team.id,
    team.enabled ? 'active' : 'disabled',
    team.allowedModels?.join(',') ?? 'any',
    `${count(team.requestsPerMinute)}/${count(team.tokensPerMinute)}/${count(team.maxConcurrent)}`,
    `${usd(team.dailyBudgetUsd)}/${usd(team.monthlyBudgetUsd)}/${usd(team.totalBudgetUsd)}`,
  ]);
  table(io, ['NAME', 'ID', 'STATUS', 'MODELS', 'RPM/TPM/CONC', 'DAY/MONTH/TOTAL'], rows);
  return 0;
}

function table(io: CommandIo, header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  io.out(line(header));
  for (const row of rows) io.out(line(row));
}

function printRebuilt(io: CommandIo, budgets: readonly RebuiltBudget[], json: boolean): number {
  if (json) io.out(JSON.stringify(budgets, null, 2));
  else if (budgets.length === 0) io.out('No budget is set: nothing to rebuild.');
  else for (const budget of budgets) io.out(`${budget.counter}  $${budget.spentUsd} of $${budget.limitUsd} spent (from the usage ledger)`);
  return 0;
}
