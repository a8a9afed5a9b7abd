import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { LATENCY_CLASS_COLUMNS, latencyClassOf, rebuildRollup, refillRollup } from '../db/usage-rollup.js';
import { ROLLUP_TABLES } from '../db/usage-rollup-tables.js';
import { createUsageSink } from '../db/usage-sink.js';
import type { UsageRecord } from '../llm/usage-record.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { errorSeries } from './error-series.js';
import { spendBy } from './key-spend.js';
import { latencySeries } from './latency-series.js';
import { insertUsage, syntheticLedger } from './ledger-seed.test-helpers.js';
import { type LedgerSource, readsRollup } from './ledger-sql.js';
import { promptStats } from './prompt-stats.js';
import { timeRange } from './time-range.js';
import { usageBreakdown } from './usage-breakdown.js';
import { usageSeries } from './usage-series.js';

/** 2026-03-10 12:34:56 UTC. */
const NOW = Date.UTC(2026, 2, 10, 12, 34, 56);
const DAY = 86_400_000;
const KEYS = ['key_a', 'key_b', 'key_c'];

/** Every panel of a range, read from one source, with costs rounded so that sums in another order compare equal. */
async function panels(db: Database<GroundworkTables>['db'], name: 'week' | 'month', source: LedgerSource) {
  const range = timeRange(name, NOW);
  const rounded = <T extends { costUsd: number }>(rows: T[]) => rows.map((row) => ({ ...row, costUsd: Number(row.costUsd.toFixed(9)) }));
  const spend = await spendBy(db, 'key_id', NOW, source);
  const teamSpend = await spendBy(db, 'team_id', NOW, source);
  return {
    usage: rounded(await usageSeries(db, range, source)),
    latency: await latencySeries(db, range, source),
    errors: await errorSeries(db, range, source),
    byModel: rounded(await usageBreakdown(db, range, 'model', 10, source)),
    byProvider: rounded(await usageBreakdown(db, range, 'provider', 10, source)),
    byKey: rounded(await usageBreakdown(db, range, 'key', 10, source)),
    byPrompt: rounded(await usageBreakdown(db, range, 'prompt', 10, source)),
    prompts: (await promptStats(db, range, source)).map((row) => ({
      ...row,
      costUsd: Number(row.costUsd.toFixed(9)),
      costPerCallUsd: Number(row.costPerCallUsd.toFixed(9)),
    })),
    spend: [...spend].sort().map(([key, value]) => [key, value.dayUsd.toFixed(9), value.monthUsd.toFixed(9), value.totalUsd.toFixed(9)]),
    teamSpend: [...teamSpend]
      .sort()
      .map(([team, value]) => [team, value.dayUsd.toFixed(9), value.monthUsd.toFixed(9), value.totalUsd.toFixed(9)]),
  };
}

/** Each roll-up's calls, failures and cost in total, and the ledger's: every table must hold every call once. */
async function totals(db: Database<GroundworkTables>['db']) {
  const ledger = await sql<{ calls: number; failures: number; cost: number }>`select count(*) as calls,
    sum(case when outcome = 'success' then 0 else 1 end) as failures, sum(cost_usd) as cost from llm_usage`.execute(db);
  const expected = ledger.rows[0];
  const tables: Record<string, unknown> = {};
  for (const table of ROLLUP_TABLES) {
    const failures = table.sums.includes('failures') ? sql`sum(failures)` : sql`sum(case when outcome = 'success' then 0 else calls end)`;
    const result = await sql<{ calls: number; failures: number; cost: number }>`select sum(calls) as calls, ${failures} as failures,
      sum(cost_usd) as cost from ${sql.table(table.name)}`.execute(db);
    const row = result.rows[0];
    tables[table.name] = [Number(row?.calls), Number(row?.failures), Number(row?.cost).toFixed(9)];
  }
  return { tables, ledger: [Number(expected?.calls), Number(expected?.failures), Number(expected?.cost).toFixed(9)] };
}

/** Recomputes the wide roll-up alone, as migration 0008 does. */
async function rebuildWideOnly(database: Database<GroundworkTables>): Promise<void> {
  await database.db.transaction().execute((transaction) => refillRollup(transaction, undefined));
}

function record(createdAt: Date, overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    createdAt,
    provider: 'openai',
    model: 'gpt-4o-mini',
    promptName: 'summarise',
    promptVersion: '2',
    promptTokens: 10,
    completionTokens: 5,
    totalTokens: 15,
    cachedPromptTokens: 0,
    reasoningTokens: 0,
    costUsd: 0.001,
    latencyMs: 420,
    outcome: 'success',
    cacheHit: false,
    attempts: 1,
    requestId: null,
    keyId: 'key_a',
    ...overrides,
  } as UsageRecord;
}

describe('readsRollup', () => {
  it('reads the roll-up for whole-hour buckets (week, month) and the ledger for the hour and the day', () => {
    expect(['hour', 'day', 'week', 'month'].map((name) => readsRollup(timeRange(name, NOW)))).toEqual([false, false, true, true]);
    expect(readsRollup(timeRange('hour', NOW), 'rollup')).toBe(true);
  });

  it('classes latency as the SQL does: the first bound not exceeded', () => {
    expect([0, 25, 25.5, 120_000, 120_001].map(latencyClassOf)).toEqual([0, 0, 1, 21, 22]);
  });
});

describe.each(TENANT_DATABASE_TARGETS)('the hourly roll-up on $name', (target) => {
  let opened: TenantDatabase;
  let database: Database<GroundworkTables>;

  beforeAll(async () => {
    opened = await target.open();
    database = opened.database;
    // Six weeks of calls (some before the month), with failures, prompts, keys and the long latency tail.
    await insertUsage(database.db, syntheticLedger({ count: 4000, fromMs: NOW - 42 * DAY, toMs: NOW, keyIds: KEYS, seed: 7 }));
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  it('answers every week and month panel exactly as the raw ledger does', async () => {
    for (const name of ['week', 'month'] as const) {
      const [raw, rollup] = [await panels(database.db, name, 'raw'), await panels(database.db, name, 'rollup')];
      expect(rollup.usage.reduce((sum, point) => sum + point.calls, 0)).toBeGreaterThan(500);
      expect(rollup.latency.some((point) => point.p95 !== null)).toBe(true);
      expect(rollup).toEqual(raw);
    }
  });

  it('is kept by the ledger sink, in the transaction of each batch, as later batches land in the same groups', async () => {
    const sink = createUsageSink(database);
    const hour = new Date(NOW - 3 * 3_600_000);
    await sink.writeBatch([
      record(hour),
      record(hour, { latencyMs: 90_000, outcome: 'provider_timeout', teamId: 'team_x' }),
      record(hour, { keyId: null }),
    ]);
    await sink.writeBatch([record(new Date(hour.getTime() + 1000), { costUsd: 0.5 })]);
    const week = await panels(database.db, 'week', 'rollup');
    expect(week.teamSpend.map(([team]) => team)).toEqual(['team_x']);
    expect(week).toEqual(await panels(database.db, 'week', 'raw'));
    const { tables, ledger } = await totals(database.db);
    for (const table of ROLLUP_TABLES) expect([table.name, tables[table.name]]).toEqual([table.name, ledger]);
    const groups = await database.db
      .selectFrom('llm_usage_hourly_model')
      .select(['calls', 'cost_usd', 'outcome'])
      .where('hour', '=', Math.floor(hour.getTime() / 3_600_000))
      .where('model', '=', 'gpt-4o-mini')
      .where('outcome', '=', 'success')
      .where('provider', '=', 'openai')
      .execute();
    // Two batches landed in this group (and maybe seeded rows): one row holding them all.
    const raw = await database.db
      .selectFrom('llm_usage')
      .select(sql<number>`count(*)`.as('calls'))
      .where('created_at', '>=', new Date(Math.floor(hour.getTime() / 3_600_000) * 3_600_000))
      .where('created_at', '<', new Date((Math.floor(hour.getTime() / 3_600_000) + 1) * 3_600_000))
      .where('model', '=', 'gpt-4o-mini')
      .where('provider', '=', 'openai')
      .where('outcome', '=', 'success')
      .executeTakeFirstOrThrow();
    expect(groups).toHaveLength(1);
    expect(Number(groups[0]?.calls)).toBe(Number(raw.calls));
    expect(Number(groups[0]?.calls)).toBeGreaterThanOrEqual(2);
  });

  it('writes a batch whole or not at all: a row the ledger refuses halfway leaves the ledger and every roll-up as they were', async () => {
    const sink = createUsageSink(database);
    const before = await totals(database.db);
    const hour = new Date(NOW - 5 * 3_600_000);
    const batch = Array.from({ length: 120 }, (_, index) => record(new Date(hour.getTime() + index), { costUsd: 0.25 }));
    batch[60] = record(hour, { provider: undefined as never });
    await expect(sink.writeBatch(batch)).rejects.toThrow();
    expect(await totals(database.db)).toEqual(before);
  });

  it('keeps the roll-ups equal to the ledger for a batch larger than one statement, over many groups', async () => {
    const sink = createUsageSink(database);
    const rows = syntheticLedger({ count: 1300, fromMs: NOW - 3 * DAY, toMs: NOW - 2 * DAY, keyIds: KEYS, seed: 31 });
    await sink.writeBatch(
      rows.map((row) =>
        record(row.created_at, {
          provider: row.provider as UsageRecord['provider'],
          model: row.model ?? 'gpt-4o-mini',
          promptName: row.prompt_name ?? null,
          promptVersion: row.prompt_version ?? null,
          costUsd: row.cost_usd ?? 0,
          latencyMs: row.latency_ms ?? 0,
          outcome: row.outcome ?? 'success',
          keyId: row.key_id ?? null,
        }),
      ),
    );
    const { tables, ledger } = await totals(database.db);
    for (const table of ROLLUP_TABLES) expect([table.name, tables[table.name]]).toEqual([table.name, ledger]);
    expect(await panels(database.db, 'week', 'rollup')).toEqual(await panels(database.db, 'week', 'raw'));
  });

  it('is rebuilt from the ledger after rows were written around it, from an hour on or in full', async () => {
    // A backfill straight into the ledger: the roll-up does not see it until rebuilt.
    const backfilled = syntheticLedger({ count: 300, fromMs: NOW - 20 * DAY, toMs: NOW - 19 * DAY, keyIds: KEYS, seed: 99 });
    await database.db
      .insertInto('llm_usage')
      .values(backfilled.map((row) => ({ cached_prompt_tokens: 0, reasoning_tokens: 0, ...row })) as never)
      .execute();
    const before = await panels(database.db, 'month', 'rollup');
    expect(before).not.toEqual(await panels(database.db, 'month', 'raw'));
    expect(await rebuildRollup(database.db, { fromMs: NOW - 21 * DAY })).toBeGreaterThan(0);
    expect(await panels(database.db, 'month', 'rollup')).toEqual(await panels(database.db, 'month', 'raw'));
    for (const table of ROLLUP_TABLES) await sql`delete from ${sql.table(table.name)}`.execute(database.db);
    await rebuildRollup(database.db);
    expect(await panels(database.db, 'month', 'rollup')).toEqual(await panels(database.db, 'month', 'raw'));
    const { tables, ledger } = await totals(database.db);
    for (const table of ROLLUP_TABLES) expect([table.name, tables[table.name]]).toEqual([table.name, ledger]);
  });

  it('keeps each narrow roll-up to a few dozen rows an hour', async () => {
    const counts: Record<string, number> = {};
    for (const table of ROLLUP_TABLES) {
      const result = await sql<{ rows: number; hours: number }>`select count(*) as rows, count(distinct hour) as hours
        from ${sql.table(table.name)}`.execute(database.db);
      counts[table.name] = Number(result.rows[0]?.rows) / Number(result.rows[0]?.hours);
    }
    // The seeded ledger: 4 models on 3 providers, 6 outcomes, 5 prompt versions, 3 keys and none.
    expect(counts['llm_usage_hourly_model']).toBeLessThanOrEqual(4 * 6);
    expect(counts['llm_usage_hourly_key']).toBeLessThanOrEqual(4 * 2);
    expect(counts['llm_usage_hourly_prompt']).toBeLessThanOrEqual(5);
  });

  it('keeps the wide roll-up for the previous release’s processes, but neither writes nor reads it', async () => {
    // Still there (a process of the previous release upserts it in each ledger batch during a rolling upgrade)…
    const before = await sql<{ calls: number | null }>`select sum(calls) as calls from llm_usage_hourly`.execute(database.db);
    // …but the sink of this release writes the narrow roll-ups only.
    await createUsageSink(database).writeBatch([record(new Date(NOW - 3_600_000))]);
    const after = await sql<{ calls: number | null }>`select sum(calls) as calls from llm_usage_hourly`.execute(database.db);
    expect(after.rows[0]?.calls ?? null).toEqual(before.rows[0]?.calls ?? null);
    // Garbage in it changes no panel: the dashboard never reads it.
    const garbage: Record<string, string | number> = { hour: NOW - 2 * 3_600_000, provider: 'openai', model: 'gpt-4o-mini' };
    for (const column of ['prompt_name', 'prompt_version', 'key_id', 'team_id']) garbage[column] = '';
    Object.assign(garbage, { outcome: 'success', calls: 1_000_000, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    Object.assign(garbage, { cost_usd: 1000, latency_sum_ms: 1, first_ms: NOW, last_ms: NOW });
    for (const column of LATENCY_CLASS_COLUMNS) garbage[column] = 0;
    await (database.db as unknown as Kysely<Record<string, Record<string, unknown>>>)
      .insertInto('llm_usage_hourly')
      .values(garbage)
      .execute();
    for (const name of ['week', 'month'] as const) {
      expect(await panels(database.db, name, 'rollup')).toEqual(await panels(database.db, name, 'raw'));
    }
  });

  it('fills the narrow roll-ups from the ledger already there when migration 0010 runs, and drops them when reverted', async () => {
    expect((await database.migrate('down')).migrations).toEqual([{ scope: 'groundwork', name: '0012_llm_usage_rollup_calls' }]);
    expect((await database.migrate('down')).migrations).toEqual([{ scope: 'groundwork', name: '0011_budget_counter_expiry' }]);
    expect((await database.migrate('down')).migrations).toEqual([{ scope: 'groundwork', name: '0010_llm_usage_hourly_narrow' }]);
    await expect(sql`select count(*) from llm_usage_hourly_model`.execute(database.db)).rejects.toThrow();
    // Written while only the wide roll-up existed: the ledger and that roll-up, as the sink of that release did.
    const earlier = syntheticLedger({ count: 200, fromMs: NOW - 2 * DAY, toMs: NOW - DAY, keyIds: KEYS, seed: 5 });
    await database.db
      .insertInto('llm_usage')
      .values(earlier.map((row) => ({ cached_prompt_tokens: 0, reasoning_tokens: 0, ...row })) as never)
      .execute();
    await rebuildWideOnly(database);
    expect((await database.migrate('up')).migrations).toEqual([
      { scope: 'groundwork', name: '0010_llm_usage_hourly_narrow' },
      { scope: 'groundwork', name: '0011_budget_counter_expiry' },
      { scope: 'groundwork', name: '0012_llm_usage_rollup_calls' },
    ]);
    for (const name of ['week', 'month'] as const) {
      expect(await panels(database.db, name, 'rollup')).toEqual(await panels(database.db, name, 'raw'));
    }
  });
});
