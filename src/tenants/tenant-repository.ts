import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Secret } from '../config/secret.js';
import type { GroundworkTables, KeysTable, TeamsTable } from '../db/groundwork-tables.js';
import { type Clock, systemClock } from '../internal/clock.js';
import { type AuditEntry, writeAudit } from './admin-audit.js';
import { digestKey, mintKey } from './plain-key.js';
import type { Team } from './team.js';
import { TenantConflictError, TenantInputError, TenantNotFoundError } from './tenant-errors.js';
import { checkName } from './tenant-name.js';
import { OPEN_SETTINGS, settingsFromRow, settingsToRow, type TenantSettings } from './tenant-settings.js';
import type { VirtualKey } from './virtual-key.js';

/** What a key is created with: a name, and any settings (the rest are open). */
export interface CreateKeyInput extends Partial<TenantSettings> {
  name: string;
  /** The team's name or id. */
  team?: string | null | undefined;
  expiresAt?: Date | null | undefined;
}

/** A key's changeable fields; those left out stay as they are. */
export interface UpdateKeyInput extends Partial<TenantSettings> {
  name?: string | undefined;
  team?: string | null | undefined;
  expiresAt?: Date | null | undefined;
}

/** What a team is created with. */
export interface CreateTeamInput extends Partial<TenantSettings> {
  name: string;
}

/** A team's changeable fields. */
export interface UpdateTeamInput extends Partial<TenantSettings> {
  name?: string | undefined;
}

/** A key and its plain value, which is shown this once and never again. */
export interface IssuedKey {
  key: VirtualKey;
  /** Prints as `[redacted]`; `plainKey.reveal()` gives the `gw-…` value to hand to the caller. */
  plainKey: Secret;
}

/** Who makes a change, for the audit table. */
export interface ChangeOptions {
  /** @default 'library' */
  actor?: string | undefined;
}

type Db = Kysely<GroundworkTables>;

/**
 * Keys and teams in the database: created, listed, shown, updated, revoked, rotated, each
 * addressed by name or id. Every change is written to `groundwork_admin_audit` in the same
 * transaction. Only SHA-256 digests of keys are stored.
 */
export class TenantRepository {
  readonly #db: Db;
  readonly #clock: Clock;

  constructor(db: Kysely<GroundworkTables>, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Creates a key; the plain key is in the answer and nowhere else. */
  async createKey(input: CreateKeyInput, options: ChangeOptions = {}): Promise<IssuedKey> {
    const settings = settingsToRow({ ...OPEN_SETTINGS, ...withoutUndefined(input) }, [
      () => checkName(input.name),
      () => checkExpiry(input.expiresAt),
    ]);
    const name = input.name;
    const minted = mintKey();
    const now = this.#now();
    const id = newId('key');
    const key = await this.#db.transaction().execute(async (tx) => {
      await this.#refuseTakenName(tx, 'groundwork_keys', name, undefined);
      const teamId = input.team === undefined || input.team === null ? null : (await this.#findTeam(tx, input.team)).id;
      await tx
        .insertInto('groundwork_keys')
        .values({
          ...settings,
          enabled: settings.enabled ?? true,
          id,
          name,
          digest: minted.digest,
          prefix: minted.prefix,
          team_id: teamId,
          expires_at: checkExpiry(input.expiresAt),
          revoked_at: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await this.#audit(tx, options, 'key.create', 'key', id, { name, prefix: minted.prefix, teamId, ...describe(input) });
      return this.#findKey(tx, id);
    });
    return { key, plainKey: minted.plain };
  }

  /** Every key, by name. */
  async listKeys(filter: { team?: string } = {}): Promise<VirtualKey[]> {
    let query = this.#db.selectFrom('groundwork_keys').selectAll().orderBy('name');
    if (filter.team !== undefined) query = query.where('team_id', '=', (await this.#findTeam(this.#db, filter.team)).id);
    return (await query.execute()).map(keyFromRow);
  }

  /** One key, by name or id. @throws TenantNotFoundError */
  showKey(reference: string): Promise<VirtualKey> {
    return this.#findKey(this.#db, reference);
  }

  /** The key whose plain value is `plain`, whatever its status; undefined when none. */
  async findKeyByPlain(plain: string): Promise<VirtualKey | undefined> {
    const row = await this.#db.selectFrom('groundwork_keys').selectAll().where('digest', '=', digestKey(plain)).executeTakeFirst();
    return row === undefined ? undefined : keyFromRow(row);
  }

  /** Changes a key's settings, name, team or expiry. */
  async updateKey(reference: string, changes: UpdateKeyInput, options: ChangeOptions = {}): Promise<VirtualKey> {
    return this.#db.transaction().execute(async (tx) => {
      const key = await this.#findKey(tx, reference);
      const renamed = changes.name !== key.name ? changes.name : undefined;
      const checks = [() => renamed === undefined || checkName(renamed), () => checkExpiry(changes.expiresAt)];
      const row: Updateable<KeysTable> = { ...settingsToRow(changes, checks), updated_at: this.#now() };
      if (renamed !== undefined) {
        row.name = renamed;
        await this.#refuseTakenName(tx, 'groundwork_keys', row.name, key.id);
      }
      if (changes.team !== undefined) row.team_id = changes.team === null ? null : (await this.#findTeam(tx, changes.team)).id;
      if (changes.expiresAt !== undefined) row.expires_at = checkExpiry(changes.expiresAt);
      await tx.updateTable('groundwork_keys').set(row).where('id', '=', key.id).execute();
      await this.#audit(tx, options, 'key.update', 'key', key.id, describe(changes));
      return this.#findKey(tx, key.id);
    });
  }

  /** Revokes a key for good: it is refused from now on, and cannot be enabled again. */
  async revokeKey(reference: string, options: ChangeOptions = {}): Promise<VirtualKey> {
    return this.#db.transaction().execute(async (tx) => {
      const key = await this.#findKey(tx, reference);
      if (key.revokedAt !== null) return key;
      const now = this.#now();
      await tx.updateTable('groundwork_keys').set({ revoked_at: now, updated_at: now }).where('id', '=', key.id).execute();
      await this.#audit(tx, options, 'key.revoke', 'key', key.id, { name: key.name, prefix: key.prefix });
      return this.#findKey(tx, key.id);
    });
  }

  /** Gives a key a new plain value; the old one stops working at once. Id, settings and spend stay. */
  async rotateKey(reference: string, options: ChangeOptions = {}): Promise<IssuedKey> {
    const minted = mintKey();
    const key = await this.#db.transaction().execute(async (tx) => {
      const key = await this.#findKey(tx, reference);
      if (key.revokedAt !== null) throw new TenantConflictError(`Key "${key.name}" is revoked; create a new key instead of rotating it.`);
      await tx
        .updateTable('groundwork_keys')
        .set({ digest: minted.digest, prefix: minted.prefix, updated_at: this.#now() })
        .where('id', '=', key.id)
        .execute();
      await this.#audit(tx, options, 'key.rotate', 'key', key.id, { name: key.name, oldPrefix: key.prefix, prefix: minted.prefix });
      return this.#findKey(tx, key.id);
    });
    return { key, plainKey: minted.plain };
  }

  /** Creates a team. */
  async createTeam(input: CreateTeamInput, options: ChangeOptions = {}): Promise<Team> {
    const settings = settingsToRow({ ...OPEN_SETTINGS, ...withoutUndefined(input) }, [() => checkName(input.name)]);
    const name = input.name;
    const now = this.#now();
    const id = newId('team');
    return this.#db.transaction().execute(async (tx) => {
      await this.#refuseTakenName(tx, 'groundwork_teams', name, undefined);
      await tx
        .insertInto('groundwork_teams')
        .values({ ...settings, enabled: settings.enabled ?? true, id, name, created_at: now, updated_at: now })
        .execute();
      await this.#audit(tx, options, 'team.create', 'team', id, { name, ...describe(input) });
      return this.#findTeam(tx, id);
    });
  }

  /** Every team, by name. */
  async listTeams(): Promise<Team[]> {
    return (await this.#db.selectFrom('groundwork_teams').selectAll().orderBy('name').execute()).map(teamFromRow);
  }

  /** One team, by name or id. @throws TenantNotFoundError */
  showTeam(reference: string): Promise<Team> {
    return this.#findTeam(this.#db, reference);
  }

  /** Changes a team's settings or name. */
  async updateTeam(reference: string, changes: UpdateTeamInput, options: ChangeOptions = {}): Promise<Team> {
    return this.#db.transaction().execute(async (tx) => {
      const team = await this.#findTeam(tx, reference);
      const renamed = changes.name !== team.name ? changes.name : undefined;
      const checks = [() => renamed === undefined || checkName(renamed)];
      const row: Updateable<TeamsTable> = { ...settingsToRow(changes, checks), updated_at: this.#now() };
      if (renamed !== undefined) {
        row.name = renamed;
        await this.#refuseTakenName(tx, 'groundwork_teams', row.name, team.id);
      }
      await tx.updateTable('groundwork_teams').set(row).where('id', '=', team.id).execute();
      await this.#audit(tx, options, 'team.update', 'team', team.id, describe(changes));
      return this.#findTeam(tx, team.id);
    });
  }

  /**
   * Deletes a team that has no keys left but revoked ones. Its revoked keys leave the team (they can
   * never be used again); the usage they recorded keeps the team's id, so reports by team still count it.
   */
  async deleteTeam(reference: string, options: ChangeOptions = {}): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      const team = await this.#findTeam(tx, reference);
      const member = await tx
        .selectFrom('groundwork_keys')
        .select('name')
        .where('team_id', '=', team.id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (member !== undefined)
        throw new TenantConflictError(`Team "${team.name}" still has keys (e.g. "${member.name}"); move or revoke them first.`);
      const detached = await tx
        .updateTable('groundwork_keys')
        .set({ team_id: null, updated_at: this.#now() })
        .where('team_id', '=', team.id)
        .executeTakeFirst();
      await tx.deleteFrom('groundwork_teams').where('id', '=', team.id).execute();
      await this.#audit(tx, options, 'team.delete', 'team', team.id, {
        name: team.name,
        revokedKeysDetached: Number(detached.numUpdatedRows),
      });
    });
  }

  async #findKey(db: Db, reference: string): Promise<VirtualKey> {
    const row = await db
      .selectFrom('groundwork_keys')
      .selectAll()
      .where((where) => where.or([where('id', '=', reference), where('name', '=', reference)]))
      .executeTakeFirst();
    if (row === undefined) throw new TenantNotFoundError('key', reference);
    return keyFromRow(row);
  }

  async #findTeam(db: Db, reference: string): Promise<Team> {
    const row = await db
      .selectFrom('groundwork_teams')
      .selectAll()
      .where((where) => where.or([where('id', '=', reference), where('name', '=', reference)]))
      .executeTakeFirst();
    if (row === undefined) throw new TenantNotFoundError('team', reference);
    return teamFromRow(row);
  }

  async #refuseTakenName(db: Db, table: 'groundwork_keys' | 'groundwork_teams', name: string, except: string | undefined): Promise<void> {
    const row = await db.selectFrom(table).select('id').where('name', '=', name).executeTakeFirst();
    if (row !== undefined && row.id !== except) {
      throw new TenantConflictError(
        `A ${table === 'groundwork_keys' ? 'key' : 'team'} named "${name}" already exists; choose another name.`,
      );
    }
  }

  #audit(
    db: Db,
    options: ChangeOptions,
    action: string,
    targetType: AuditEntry['targetType'],
    targetId: string,
    details: Record<string, unknown>,
  ) {
    return writeAudit(db, { createdAt: this.#now(), actor: options.actor ?? 'library', action, targetType, targetId, details });
  }

  #now(): Date {
    return new Date(this.#clock.now());
  }
}

/** `key_…`/`team_…` and 96 random bits. */
function newId(kind: 'key' | 'team'): string {
  return `${kind}_${randomBytes(12).toString('base64url')}`;
}

function checkExpiry(value: Date | null | undefined): Date | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TenantInputError('expiresAt', 'must be a valid date');
  return value;
}

/** `input` without its undefined fields, so that they do not hide the defaults they are spread over. */
function withoutUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The fields of a change, for the audit row: only what the caller set. */
function describe(changes: object): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(changes))
    if (value !== undefined) details[field] = value instanceof Date ? value.toISOString() : value;
  return details;
}

function keyFromRow(row: Selectable<KeysTable>): VirtualKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    teamId: row.team_id,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...settingsFromRow(row),
  };
}

function teamFromRow(row: Selectable<TeamsTable>): Team {
  return { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at, ...settingsFromRow(row) };
}
