import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { captureLogger } from './capture-logger.test-helpers.js';
import { GroundworkMetrics } from './metrics.js';

/** A scrape's read is shared until a timer of 0 ms forgets it: wait for that timer (timers of one duration fire in order). */
const nextScrape = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('the tenant budget gauges', () => {
  it('publish each budget and its spend at each scrape, from the reader given', async () => {
    const metrics = new GroundworkMetrics();
    expect(await metrics.registry.metrics()).not.toMatch(/^groundwork_tenant_budget_usd\{/m);
    let spent = 4.5;
    metrics.watchTenantBudgets(async () => [
      { owner: 'key', id: 'key_1', period: 'month', limitUsd: 5, spentUsd: spent },
      { owner: 'team', id: 'team_1', period: 'day', limitUsd: 20, spentUsd: 1 },
    ]);
    const first = await metrics.registry.metrics();
    expect(first).toContain('groundwork_tenant_budget_usd{owner="key",id="key_1",period="month"} 5');
    expect(first).toContain('groundwork_tenant_budget_spent_usd{owner="key",id="key_1",period="month"} 4.5');
    expect(first).toContain('groundwork_tenant_budget_usd{owner="team",id="team_1",period="day"} 20');
    spent = 5.25;
    // One read serves both gauges of a scrape; the next scrape reads again.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await metrics.registry.metrics()).toContain('groundwork_tenant_budget_spent_usd{owner="key",id="key_1",period="month"} 5.25');
  });

  it('leave the budgets out of a scrape whose read failed, rather than failing it', async () => {
    const metrics = new GroundworkMetrics();
    metrics.watchTenantBudgets(async () => {
      throw new Error('database unreachable');
    });
    const scraped = await metrics.registry.metrics();
    expect(scraped).toContain('# TYPE groundwork_tenant_budget_usd gauge');
    expect(scraped).not.toMatch(/^groundwork_tenant_budget_usd\{/m);
  });

  it('count each failed read and warn of it, at most once a minute (the rest at debug), its error scrubbed', async () => {
    const metrics = new GroundworkMetrics();
    const captured = captureLogger('debug');
    const clock = new ManualClock();
    metrics.watchTenantBudgets(
      async () => {
        throw new Error('connect failed for postgres://app:hunter2canary@db/app');
      },
      { logger: captured.logger, clock },
    );
    const failures = async () =>
      (await metrics.storeFailures.get()).values.find((value) => value.labels.component === 'tenant_budget_gauges')?.value;
    await metrics.registry.metrics();
    expect(await failures()).toBe(1);
    expect(captured.records.map((record) => record['level'])).toEqual(['warn']);
    expect(captured.records[0]?.['msg']).toMatch(/^Reading the tenant budgets for their gauges failed/);
    await nextScrape();
    await metrics.registry.metrics();
    expect(await failures()).toBe(2);
    expect(captured.records.map((record) => record['level'])).toEqual(['warn', 'debug']);
    clock.advance(60_000);
    await nextScrape();
    await metrics.registry.metrics();
    expect(captured.records.map((record) => record['level'])).toEqual(['warn', 'debug', 'warn']);
    expect(captured.records[2]?.['failuresSinceLastWarning']).toBe(1);
    expect(captured.text()).toContain('postgres://app:***@db/app');
    expect(captured.text()).not.toContain('hunter2canary');
  });
});
