import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { listCalls } from './call-list.js';
import { errorSeries } from './error-series.js';
import { spendBy } from './key-spend.js';
import { latencySeries } from './latency-series.js';
import { insertUsage } from './ledger-seed.test-helpers.js';
import { quantileOf } from './ledger-sql.js';
import { promptStats } from './prompt-stats.js';
import { timeRange } from './time-range.js';
import { usageBreakdown } from './usage-breakdown.js';
import { usageSeries } from './usage-series.js';

/** 2026-03-10 12:34:56 UTC: mid-bucket for every range. */
const NOW = Date.UTC(2026, 2, 10, 12, 34, 56);
const MINUTE = 60_000;

describe.each(TENANT_DATABASE_TARGETS)('the dashboard queries on $name', (target) => {
  let opened: TenantDatabase;
  let database: Database<GroundworkTables>;
  let keyId: string;

  beforeAll(async () => {
    opened = await target.open();
    database = opened.database;
    const { key } = await new TenantRepository(database.db).createKey({ name: `dash-${target.name}` });
    keyId = key.id;
    const at = (minutesAgo: number) => new Date(NOW - minutesAgo * MINUTE);
    // Inserted oldest first, as the ledger records them.
    await insertUsage(database.db, [
      { created_at: at(40 * 24 * 60), total_tokens: 7, cost_usd: 8, key_id: keyId },
      { created_at: at(120), model: 'gpt-4o', total_tokens: 1000, cost_usd: 2, latency_ms: 400, outcome: 'circuit_open', key_id: keyId },
      {
        created_at: at(10),
        provider: 'anthropic',
        model: 'claude',
        outcome: 'provider_timeout',
        latency_ms: 30_000,
        attempts: 3,
        prompt_name: 'summarise',
        prompt_version: '1',
      },
      { created_at: at(10), provider: 'anthropic', model: 'claude', total_tokens: 10, cost_usd: 0.125, latency_ms: 900, key_id: keyId },
      {
        created_at: at(0.5),
        model: 'gpt-4o',
        total_tokens: 100,
        cost_usd: 0.5,
        latency_ms: 80,
        prompt_name: 'summarise',
        prompt_version: '2',
        key_id: keyId,
      },
      {
        created_at: at(0.2),
        model: 'gpt-4o',
        total_tokens: 50,
        cost_usd: 0.25,
        latency_ms: 120,
        prompt_name: 'summarise',
        prompt_version: '2',
      },
      {
        created_at: at(0.1),
        model: 'gpt-4o',
        outcome: 'rate_limit_exceeded',
        latency_ms: 5,
        prompt_name: 'summarise',
        prompt_version: '2',
      },
    ]);
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  it('counts calls, failures, tokens and cost per bucket, zeros in empty buckets', async () => {
    const series = await usageSeries(database.db, timeRange('hour', NOW));
    expect(series).toHaveLength(60);
    expect(series.at(-1)).toEqual({ t: Date.UTC(2026, 2, 10, 12, 34), calls: 3, failures: 1, tokens: 150, costUsd: 0.75 });
    expect(series.at(-11)).toEqual({ t: Date.UTC(2026, 2, 10, 12, 24), calls: 2, failures: 1, tokens: 10, costUsd: 0.125 });
    expect(series.reduce((sum, point) => sum + point.calls, 0)).toBe(5);
    const day = await usageSeries(database.db, timeRange('day', NOW));
    expect(day.reduce((sum, point) => sum + point.calls, 0)).toBe(6);
    expect(day.reduce((sum, point) => sum + point.costUsd, 0)).toBeCloseTo(2.875, 9);
  });

  it('groups failures by kind', async () => {
    const errors = await errorSeries(database.db, timeRange('day', NOW));
    const sum = (kind: 'rate_limited' | 'timeout' | 'breaker' | 'provider') => errors.reduce((total, point) => total + point[kind], 0);
    expect([sum('rate_limited'), sum('timeout'), sum('breaker'), sum('provider')]).toEqual([1, 1, 1, 0]);
  });

  it('estimates p50 and p95 per bucket from the latency histogram', async () => {
    const series = await latencySeries(database.db, timeRange('hour', NOW));
    const last = series.at(-1);
    // 5, 80 and 120 ms: the median lies in the 50–100 ms class, p95 in the 100–150 ms class.
    expect(last?.p50).toBeGreaterThan(50);
    expect(last?.p50).toBeLessThanOrEqual(100);
    expect(last?.p95).toBeGreaterThan(100);
    expect(last?.p95).toBeLessThanOrEqual(150);
    expect(series.at(-2)).toEqual({ t: Date.UTC(2026, 2, 10, 12, 33), p50: null, p95: null });
  });

  it('splits usage by model, provider, prompt and key, costliest first, with key names', async () => {
    const range = timeRange('day', NOW);
    const byModel = await usageBreakdown(database.db, range, 'model');
    expect(byModel.map((row) => [row.group, row.calls, row.costUsd])).toEqual([
      ['gpt-4o', 4, 2.75],
      ['claude', 2, 0.125],
    ]);
    const byKey = await usageBreakdown(database.db, range, 'key');
    expect(byKey[0]).toMatchObject({ group: keyId, label: `dash-${target.name}`, calls: 3, costUsd: 2.625 });
    expect(byKey[1]).toMatchObject({ group: null, label: null, calls: 3 });
    const byProvider = await usageBreakdown(database.db, range, 'provider');
    expect(byProvider.map((row) => row.group)).toEqual(['openai', 'anthropic']);
    await expect(usageBreakdown(database.db, range, 'colour')).rejects.toThrow(/Invalid by: "colour" is not a dimension/);
  });

  it('compares prompt versions', async () => {
    const prompts = await promptStats(database.db, timeRange('day', NOW));
    expect(prompts.map((row) => [row.name, row.version, row.calls, row.failures])).toEqual([
      ['summarise', '2', 3, 1],
      ['summarise', '1', 1, 1],
    ]);
    expect(prompts[0]?.failureRate).toBeCloseTo(1 / 3, 9);
    expect(prompts[0]?.costPerCallUsd).toBeCloseTo(0.25, 9);
  });

  it('lists calls newest first, paged by cursor, searchable and filtered by outcome', async () => {
    const first = await listCalls(database.db, { limit: 4 });
    expect(first.data.map((row) => row.outcome)).toEqual(['rate_limit_exceeded', 'success', 'success', 'success']);
    expect(first.data[0]?.createdAt).toBe(new Date(NOW - 0.1 * MINUTE).toISOString());
    const second = await listCalls(database.db, { limit: 4, before: first.next });
    expect(second.data).toHaveLength(3);
    expect(second.next).toBeUndefined();
    expect((await listCalls(database.db, { search: 'CLAUDE' })).data).toHaveLength(2);
    expect((await listCalls(database.db, { search: '100%' })).data).toHaveLength(0);
    expect((await listCalls(database.db, { outcome: 'failed' })).data).toHaveLength(3);
    const keyed = await listCalls(database.db, { search: keyId });
    expect(keyed.data).toHaveLength(4);
    expect(keyed.data.every((row) => row.keyName === `dash-${target.name}`)).toBe(true);
    await expect(listCalls(database.db, { limit: 0 })).rejects.toThrow(/Invalid limit/);
  });

  it("adds up each key's spend today, this month and in all", async () => {
    const spend = await spendBy(database.db, 'key_id', NOW);
    expect(spend.get(keyId)?.dayUsd).toBeCloseTo(2.625, 9);
    expect(spend.get(keyId)?.monthUsd).toBeCloseTo(2.625, 9);
    expect(spend.get(keyId)?.totalUsd).toBeCloseTo(10.625, 9);
  });
});

describe('quantileOf', () => {
  it('interpolates within the class that holds the rank, and answers undefined when empty', () => {
    expect(quantileOf([], 0.5)).toBeUndefined();
    expect(quantileOf([0, 0, 4], 0.5)).toBe(75);
    expect(quantileOf([10], 1)).toBe(25);
  });
});
