import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { listCalls } from './call-list.js';
import { errorSeries } from './error-series.js';
import { latencySeries } from './latency-series.js';
import { insertUsage, type SeedRow } from './ledger-seed.test-helpers.js';
import type { LedgerSource } from './ledger-sql.js';
import { liveState } from './live-state.js';
import { promptStats } from './prompt-stats.js';
import { timeRange } from './time-range.js';
import { usageBreakdown } from './usage-breakdown.js';
import { usageSeries } from './usage-series.js';

/** 2026-03-10 12:34:56 UTC. */
const NOW = Date.UTC(2026, 2, 10, 12, 34, 56);

/** One call of three model turns, as the call recorder writes it: two `continued` rows, then the last turn's outcome. */
function threeTurns(minutesAgo: number, last: string, prompt: string): SeedRow[] {
  const created_at = new Date(NOW - minutesAgo * 60_000);
  return ['continued', 'continued', last].map((outcome) => ({
    created_at,
    outcome,
    prompt_name: prompt,
    prompt_version: '1',
    key_id: 'key_loop',
    total_tokens: 10,
    cost_usd: 0.5,
    latency_ms: 1200,
  }));
}

describe.each(TENANT_DATABASE_TARGETS)('a multi-turn call in the dashboard on $name', (target) => {
  let opened: TenantDatabase;
  let database: Database<GroundworkTables>;

  beforeAll(async () => {
    opened = await target.open();
    database = opened.database;
    await insertUsage(database.db, threeTurns(3, 'success', 'loop'));
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  /** Every figure of the day (raw ledger) or the week (roll-ups). */
  async function figures(source: LedgerSource) {
    const range = timeRange(source === 'raw' ? 'day' : 'week', NOW);
    const usage = await usageSeries(database.db, range, source);
    const errors = await errorSeries(database.db, range, source);
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const breakdown = async (by: string) =>
      (await usageBreakdown(database.db, range, by, null, source)).map((row) => [row.group, row.calls, row.failures, row.costUsd]);
    return {
      calls: sum(usage.map((point) => point.calls)),
      failures: sum(usage.map((point) => point.failures)),
      costUsd: sum(usage.map((point) => point.costUsd)),
      tokens: sum(usage.map((point) => point.tokens)),
      errors: sum(errors.flatMap(({ t: _, ...kinds }) => Object.values(kinds))),
      latencyCounted: (await latencySeries(database.db, range, source)).filter((point) => point.p50 !== null).length,
      byModel: await breakdown('model'),
      byKey: await breakdown('key'),
      byPrompt: await breakdown('prompt'),
      prompts: (await promptStats(database.db, range, source)).map((row) => [
        row.name,
        row.calls,
        row.failures,
        row.failureRate,
        row.meanLatencyMs,
      ]),
    };
  }

  it.each(['raw', 'rollup'] as const)('counts one call and no failure, with the cost of every turn, from the %s ledger', async (source) => {
    expect(await figures(source)).toEqual({
      calls: 1,
      failures: 0,
      costUsd: 1.5,
      tokens: 30,
      errors: 0,
      latencyCounted: 1,
      byModel: [['gpt-4o-mini', 1, 0, 1.5]],
      byKey: [['key_loop', 1, 0, 1.5]],
      byPrompt: [['loop', 1, 0, 1.5]],
      prompts: [['loop', 1, 0, 0, 1200]],
    });
  });

  it('lists no row under "failed only", and no failure in the last five minutes', async () => {
    expect((await listCalls(database.db, { outcome: 'failed' })).data).toHaveLength(0);
    expect((await listCalls(database.db, {})).data.map((row) => row.outcome)).toEqual(['success', 'continued', 'continued']);
    const live = await liveState({
      db: database.db,
      adminKey: undefined,
      metrics: new GroundworkMetrics(),
      breakers: async () => [],
      health: async () => ({ status: 'ok', checkedAt: '', dependencies: [] }),
      now: () => NOW,
    });
    expect(live.recent).toEqual({ calls: 1, failures: 0, costUsd: 1.5 });
  });

  it('counts a multi-turn call that failed once, by the kind of its failure', async () => {
    await insertUsage(database.db, threeTurns(2, 'provider_timeout', 'loop-failed'));
    for (const source of ['raw', 'rollup'] as const) {
      const range = timeRange(source === 'raw' ? 'day' : 'week', NOW);
      const usage = await usageSeries(database.db, range, source);
      expect(
        usage.reduce((sum, point) => sum + point.calls, 0),
        source,
      ).toBe(2);
      expect(
        usage.reduce((sum, point) => sum + point.failures, 0),
        source,
      ).toBe(1);
      const errors = await errorSeries(database.db, range, source);
      expect(
        errors.reduce((sum, point) => sum + point.timeout, 0),
        source,
      ).toBe(1);
      expect(
        errors.reduce((sum, point) => sum + point.other, 0),
        source,
      ).toBe(0);
    }
    expect((await listCalls(database.db, { outcome: 'failed' })).data.map((row) => row.outcome)).toEqual(['provider_timeout']);
  });

  it('recounts roll-ups written the old way when migration 0012 runs', async () => {
    // As the roll-ups of the previous release held them: every continued turn a call and a failure.
    const db = database.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await sql`update llm_usage_hourly_prompt set calls = calls + 2, failures = failures + 2`.execute(db);
    await sql`update llm_usage_hourly_key set calls = calls + 4, failures = failures + 4`.execute(db);
    expect((await database.migrate('down')).migrations).toEqual([{ scope: 'groundwork', name: '0012_llm_usage_rollup_calls' }]);
    expect((await database.migrate('up')).migrations).toEqual([{ scope: 'groundwork', name: '0012_llm_usage_rollup_calls' }]);
    const week = timeRange('week', NOW);
    expect((await usageBreakdown(database.db, week, 'key', null, 'rollup')).map((row) => [row.calls, row.failures])).toEqual([[2, 1]]);
    expect((await promptStats(database.db, week, 'rollup')).map((row) => [row.name, row.calls, row.failures])).toEqual([
      ['loop', 1, 0],
      ['loop-failed', 1, 1],
    ]);
  });
});
