import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUsageSink } from '../db/usage-sink.js';
import type { UsageRecord } from '../llm/usage-record.js';
import { budgetToNano } from './budget-store.js';
import { DatabaseBudgetStore } from './database-budget-store.js';
import { ledgerScope, ledgerSpend } from './ledger-spend.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from './tenant-databases.test-helpers.js';

function row(overrides: Partial<UsageRecord>): UsageRecord {
  return {
    createdAt: new Date('2026-11-30T12:00:00Z'),
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

describe('ledgerScope', () => {
  it('reads whose spend and which UTC period a counter sums, and nothing for other counters', () => {
    expect(ledgerScope('key:key_1:day:2026-11-30')).toEqual({
      column: 'key_id',
      id: 'key_1',
      from: new Date('2026-11-30T00:00:00Z'),
      to: new Date('2026-12-01T00:00:00Z'),
    });
    expect(ledgerScope('team:team_1:month:2026-12')).toEqual({
      column: 'team_id',
      id: 'team_1',
      from: new Date('2026-12-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    });
    expect(ledgerScope('key:key_1:total')).toEqual({ column: 'key_id', id: 'key_1' });
    expect(ledgerScope('key:key_1:concurrency')).toBeUndefined();
    expect(ledgerSpend(undefined as never).covers('key:key_1:concurrency')).toBe(false);
  });
});

describe.each(TENANT_DATABASE_TARGETS)('ledgerSpend on $name', (target) => {
  let opened: TenantDatabase;

  beforeAll(async () => {
    opened = await target.open();
    await createUsageSink(opened.database).writeBatch([
      row({ keyId: 'key_a', teamId: 'team_a' }),
      row({ keyId: 'key_a', teamId: 'team_a', costUsd: 0.125, createdAt: new Date('2026-11-30T23:59:59Z') }),
      row({ keyId: 'key_a', teamId: 'team_a', costUsd: 1, createdAt: new Date('2026-11-02T00:00:00Z') }),
      row({ keyId: 'key_a', costUsd: 10, createdAt: new Date('2026-10-31T23:59:59Z') }),
      row({ keyId: 'key_b', teamId: 'team_a', costUsd: 0.5 }),
    ]);
  });

  afterAll(async () => {
    await opened?.close();
  });

  it("sums a key's or team's ledger cost within the counter's day, month, or ever", async () => {
    const ledger = ledgerSpend(opened.database.db);
    expect(await ledger.spentNano('key:key_a:day:2026-11-30')).toBe(budgetToNano(0.375));
    expect(await ledger.spentNano('key:key_a:month:2026-11')).toBe(budgetToNano(1.375));
    expect(await ledger.spentNano('key:key_a:total')).toBe(budgetToNano(11.375));
    expect(await ledger.spentNano('team:team_a:day:2026-11-30')).toBe(budgetToNano(0.875));
    expect(await ledger.spentNano('key:key_none:total')).toBe(0);
    await expect(ledger.spentNano('key:key_a:concurrency')).rejects.toThrow(/not a spend counter/);
  });

  it('rebuilds a database counter to the ledger on demand', async () => {
    const store = new DatabaseBudgetStore(opened.database.db, ledgerSpend(opened.database.db));
    const counter = 'key:key_a:total';
    const reservation = { reservationId: 'r1', budgets: [{ counter, limitNano: budgetToNano(100), expiresAt: undefined }], now: 0 };
    await store.reserve({ ...reservation, amountNano: 5, leaseUntil: Date.now() + 60_000, now: Date.now() });
    await store.settle('r1', [counter], budgetToNano(3), Date.now());
    expect(await store.rebuild(counter, undefined)).toBe(budgetToNano(11.375));
    expect(await store.read([counter], Date.now())).toEqual([{ counter, spentNano: budgetToNano(11.375), reservedNano: 0 }]);
  });
});
