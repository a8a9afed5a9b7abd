import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from './admin-audit.js';
import { digestKey } from './plain-key.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from './tenant-databases.test-helpers.js';
import { TenantConflictError, TenantInputError, TenantNotFoundError } from './tenant-errors.js';
import { TenantRepository } from './tenant-repository.js';
import { keyStatus } from './virtual-key.js';

describe.each(TENANT_DATABASE_TARGETS)('TenantRepository on $name', (target) => {
  let opened: TenantDatabase;
  let repository: TenantRepository;

  beforeAll(async () => {
    opened = await target.open();
    repository = new TenantRepository(opened.database.db);
  });

  afterAll(async () => {
    await opened?.close();
  });

  it('creates a key, returns its plain value once and stores only its digest', async () => {
    const { key, plainKey } = await repository.createKey(
      { name: 'billing', allowedModels: ['gpt-4o-mini'], dailyBudgetUsd: 2.5, requestsPerMinute: 60, metadata: { owner: 'finance' } },
      { actor: 'test' },
    );
    const plain = plainKey.reveal();
    expect(plain).toMatch(/^gw-[A-Za-z0-9_-]{43}$/);
    expect(String(plainKey)).toBe('[redacted]');
    expect(inspect({ plainKey })).not.toContain(plain);
    expect(key).toMatchObject({
      name: 'billing',
      prefix: plain.slice(0, 9),
      allowedModels: ['gpt-4o-mini'],
      dailyBudgetUsd: 2.5,
      monthlyBudgetUsd: null,
      requestsPerMinute: 60,
      metadata: { owner: 'finance' },
      enabled: true,
      teamId: null,
      revokedAt: null,
    });
    expect(key.id).toMatch(/^key_/);
    expect(key.createdAt).toBeInstanceOf(Date);
    const row = await opened.database.db.selectFrom('groundwork_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
    expect(row.digest).toBe(digestKey(plain));
    expect(JSON.stringify(row)).not.toContain(plain.slice(9));
    expect((await repository.findKeyByPlain(plain))?.id).toBe(key.id);
    expect(await repository.findKeyByPlain(`${plain}x`)).toBeUndefined();
  });

  it('addresses keys and teams by name or id, and groups keys under a team', async () => {
    const team = await repository.createTeam({ name: 'search', monthlyBudgetUsd: 100, tokensPerMinute: 50_000 });
    const { key } = await repository.createKey({ name: 'search-api', team: 'search' });
    expect(key.teamId).toBe(team.id);
    expect((await repository.showKey(key.id)).name).toBe('search-api');
    expect((await repository.showKey('search-api')).id).toBe(key.id);
    expect((await repository.showTeam(team.id)).monthlyBudgetUsd).toBe(100);
    expect((await repository.listKeys({ team: 'search' })).map((member) => member.name)).toEqual(['search-api']);
    expect((await repository.listTeams()).map((listed) => listed.name)).toContain('search');
    await expect(repository.showKey('nobody')).rejects.toBeInstanceOf(TenantNotFoundError);
    await expect(repository.createKey({ name: 'orphan', team: 'nobody' })).rejects.toThrow(/No team is named or has the id "nobody"/);
    await expect(repository.deleteTeam('search')).rejects.toBeInstanceOf(TenantConflictError);
  });

  it('updates settings, leaving the rest as they were, and audits every change', async () => {
    const { key } = await repository.createKey({ name: 'updatable', dailyBudgetUsd: 1 });
    const updated = await repository.updateKey(
      'updatable',
      { dailyBudgetUsd: null, maxConcurrent: 4, enabled: false, name: 'renamed' },
      { actor: 'ops' },
    );
    expect(updated).toMatchObject({ name: 'renamed', dailyBudgetUsd: null, maxConcurrent: 4, enabled: false });
    expect(keyStatus(updated, new Date())).toBe('disabled');
    const audit = await readAudit(opened.database.db, { targetId: key.id });
    expect(audit.map((entry) => [entry.actor, entry.action])).toEqual([
      ['ops', 'key.update'],
      ['library', 'key.create'],
    ]);
    expect(audit[0]?.details).toEqual({ dailyBudgetUsd: null, maxConcurrent: 4, enabled: false, name: 'renamed' });
  });

  it('refuses bad input and taken names with errors that say what to fix', async () => {
    await repository.createKey({ name: 'taken' });
    await expect(repository.createKey({ name: 'taken' })).rejects.toThrow(/already exists/);
    await expect(repository.createKey({ name: 'key_spoof' })).rejects.toBeInstanceOf(TenantInputError);
    await expect(repository.createKey({ name: 'negative', dailyBudgetUsd: -1 })).rejects.toThrow(/dailyBudgetUsd/);
    await expect(repository.createKey({ name: 'fraction', requestsPerMinute: 1.5 })).rejects.toThrow(/requestsPerMinute/);
    await expect(repository.updateKey('taken', { allowedModels: [''] })).rejects.toThrow(/allowedModels/);
    // Every bad field at once, the name's included, so that a caller fixes them in one go.
    await expect(repository.createKey({ name: 'key_spoof', dailyBudgetUsd: -1, maxConcurrent: 0 })).rejects.toMatchObject({
      field: 'name, maxConcurrent, dailyBudgetUsd',
    });
    await expect(repository.updateTeam('missing-team', { name: 'team_x', requestsPerMinute: 0 })).rejects.toBeInstanceOf(
      TenantNotFoundError,
    );
    await expect(repository.updateKey('taken', { name: 'team_x', requestsPerMinute: 0 })).rejects.toMatchObject({
      field: 'name, requestsPerMinute',
    });
  });

  it('rotates a key: the old value stops working, the id and settings stay', async () => {
    const first = await repository.createKey({ name: 'rotating', totalBudgetUsd: 10 });
    const second = await repository.rotateKey('rotating');
    expect(second.key.id).toBe(first.key.id);
    expect(second.key.totalBudgetUsd).toBe(10);
    expect(second.plainKey.reveal()).not.toBe(first.plainKey.reveal());
    expect(await repository.findKeyByPlain(first.plainKey.reveal())).toBeUndefined();
    expect((await repository.findKeyByPlain(second.plainKey.reveal()))?.id).toBe(first.key.id);
    const audit = await readAudit(opened.database.db, { targetId: first.key.id });
    expect(JSON.stringify(audit)).not.toContain(first.plainKey.reveal());
    expect(JSON.stringify(audit)).not.toContain(second.plainKey.reveal());
  });

  it('revokes a key for good, and tells expired keys apart', async () => {
    const { key } = await repository.createKey({ name: 'short-lived', expiresAt: new Date('2020-01-01T00:00:00Z') });
    expect(keyStatus(key, new Date())).toBe('expired');
    const revoked = await repository.revokeKey(key.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(keyStatus(revoked, new Date())).toBe('revoked');
    await expect(repository.updateKey(key.id, { enabled: true }).then((updated) => keyStatus(updated, new Date()))).resolves.toBe(
      'revoked',
    );
    await expect(repository.rotateKey(key.id)).rejects.toBeInstanceOf(TenantConflictError);
  });

  it('deletes an empty team', async () => {
    await repository.createTeam({ name: 'empty' });
    await repository.deleteTeam('empty');
    await expect(repository.showTeam('empty')).rejects.toBeInstanceOf(TenantNotFoundError);
  });

  it('deletes a team whose keys were all revoked, as its refusal advises, and no other', async () => {
    const team = await repository.createTeam({ name: 'leaving' });
    const { key: member } = await repository.createKey({ name: 'leaving-member', team: 'leaving' });
    const { key: live } = await repository.createKey({ name: 'leaving-live', team: 'leaving' });
    await repository.revokeKey(member.id);
    await expect(repository.deleteTeam('leaving')).rejects.toThrow(/still has keys \(e\.g\. "leaving-live"\); move or revoke them first/);
    await repository.revokeKey(live.id);
    await repository.deleteTeam('leaving');
    await expect(repository.showTeam('leaving')).rejects.toBeInstanceOf(TenantNotFoundError);
    // The revoked keys stay revoked, out of the deleted team.
    expect(await repository.showKey(member.id)).toMatchObject({ teamId: null, revokedAt: expect.any(Date) });
    const audit = await readAudit(opened.database.db, { targetId: team.id });
    expect(audit.find((entry) => entry.action === 'team.delete')?.details).toMatchObject({ revokedKeysDetached: 2 });
  });
});
