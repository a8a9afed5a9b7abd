import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUsageSink } from '../db/usage-sink.js';
import type { UsageRecord } from '../llm/usage-record.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from './tenant-databases.test-helpers.js';
import { TenantRepository } from './tenant-repository.js';
import { parseSince, usageReport } from './usage-report.js';

const now = Date.now();

function row(overrides: Partial<UsageRecord>): UsageRecord {
  return {
    createdAt: new Date(now - 1000),
    provider: 'openai',
    model: 'gpt-4o-mini',
    promptName: null,
    promptVersion: null,
    promptTokens: 10,
    completionTokens: 5,
    totalTokens: 15,
    cachedPromptTokens: 0,
    reasoningTokens: 0,
    costUsd: 0.25,
    latencyMs: 1,
    outcome: 'success',
    cacheHit: false,
    attempts: 1,
    requestId: null,
    ...overrides,
  };
}

describe.each(TENANT_DATABASE_TARGETS)('usageReport on $name', (target) => {
  let opened: TenantDatabase;
  let keyId: string;

  beforeAll(async () => {
    opened = await target.open();
    keyId = (await new TenantRepository(opened.database.db).createKey({ name: 'reporter' })).key.id;
    await createUsageSink(opened.database).writeBatch([
      row({ keyId, teamId: 'team_x' }),
      row({ keyId, teamId: 'team_x', model: 'gpt-4o', costUsd: 1 }),
      row({ promptName: 'greet' }),
      row({ keyId, createdAt: new Date(now - 10 * 86_400_000), costUsd: 100 }),
    ]);
  });

  afterAll(async () => {
    await opened?.close();
  });

  it('sums calls, tokens and cost per key since a moment, naming the key', async () => {
    const rows = await usageReport(opened.database.db, { by: 'key', since: new Date(now - parseSince('7d')) });
    expect(rows).toEqual([
      { group: keyId, name: 'reporter', calls: 2, promptTokens: 20, completionTokens: 10, costUsd: 1.25 },
      { group: null, name: null, calls: 1, promptTokens: 10, completionTokens: 5, costUsd: 0.25 },
    ]);
  });

  it('groups by model, team and prompt', async () => {
    const since = new Date(now - parseSince('24h'));
    expect((await usageReport(opened.database.db, { by: 'model', since })).map((entry) => [entry.group, entry.calls])).toEqual([
      ['gpt-4o', 1],
      ['gpt-4o-mini', 2],
    ]);
    expect((await usageReport(opened.database.db, { by: 'team', since })).map((entry) => entry.group)).toEqual(['team_x', null]);
    expect((await usageReport(opened.database.db, { by: 'prompt', since })).map((entry) => entry.group)).toEqual([null, 'greet']);
  });

  it('refuses a duration it cannot read', () => {
    expect(() => parseSince('a week')).toThrow(/^--since: "a week" is not a duration; use e.g. 30m, 24h, 7d or 4w$/);
    expect(() => parseSince('99999999999w')).toThrow(/^--since: "99999999999w" is longer than 100 years/);
    expect(parseSince('36500d')).toBe(36_500 * 86_400_000);
    expect(() => parseSince('36501d')).toThrow(/longer than 100 years/);
  });
});
