import { describe, expect, it } from 'vitest';
import { GroundworkMetrics } from './metrics.js';

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
});
