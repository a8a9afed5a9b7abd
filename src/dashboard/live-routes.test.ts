import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroundworkMetrics } from '../observability/metrics.js';
import { hang, serverError } from '../resilience/resilience.test-helpers.js';
import { groupTargets } from '../routing/router.js';
import { deployment, routesOf, testRouter } from '../routing/routing.test-helpers.js';
import { sqliteTarget, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { ManualClock } from '../testing/manual-clock.js';
import { createDashboard } from './create-dashboard.js';
import { liveState } from './live-state.js';

/* The live view of a service with model groups: their deployments' circuits, calls in flight and refusals. */

describe('the live view with model groups', () => {
  let opened: TenantDatabase;

  beforeAll(async () => {
    opened = await sqliteTarget.open();
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  it('lists each deployment circuit beside the providers’, and counts routed calls in flight and refused', async () => {
    const clock = new ManualClock();
    const metrics = new GroundworkMetrics();
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b', { rpm: 1 })] } });
    const router = testRouter(routes, { clock, metrics, random: () => 0, resilience: { circuitFailureThreshold: 1, maxAttempts: 1 } });
    const dashboard = createDashboard(
      {
        database: opened.database,
        metrics,
        config: { llm: { logContent: false } },
        pipeline: {
          breakerStates: async () => [
            { provider: 'anthropic', model: 'claude', state: 'closed', consecutiveFailures: 0, openedAt: undefined, retryAt: undefined },
          ],
          rateLimitLevels: async () => undefined,
          concurrency: () => [],
        },
        router,
        health: async () => ({ status: 'ok', checkedAt: '', dependencies: [] }),
      },
      { adminKey: undefined },
    );
    const targets = groupTargets(routes.groups.fast!);
    // b takes a call that does not end, and with it its one request of the minute.
    const flying = router.execute({ targets: targets.slice(1), estimatedTokens: 1 }, hang).catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));
    // The next call: a fails, and its circuit opens; b's limit is spent, and it is refused.
    const refused = router.execute({ targets, estimatedTokens: 1 }, async (info) => {
      if (info.target.deployment === 'a') throw serverError();
      return { value: 'answer' };
    });
    await expect(refused).rejects.toThrow();

    const live = await liveState(dashboard);
    expect(live.breakers.map((breaker) => [breaker.provider, breaker.model, breaker.state])).toEqual([
      ['anthropic', 'claude', 'closed'],
      ['openai', 'fast/a', 'open'],
      ['openai', 'fast/b', 'closed'],
    ]);
    expect(live.inFlight).toEqual({ openai: 1 });
    expect(live.refusals).toEqual({ rate_limit: 1 });
    const refusals = (await metrics.llmRefusals.get()).values;
    expect(refusals).toEqual([
      expect.objectContaining({ labels: { provider: 'openai', model: 'model-b', reason: 'rate_limit' }, value: 1 }),
    ]);

    clock.advance(120_000);
    await flying;
    expect((await liveState(dashboard)).inFlight).toEqual({ openai: 0 });
  });

  it('shows a deployment’s own rate-limit buckets, never the provider-wide ones under its name', async () => {
    const clock = new ManualClock();
    const metrics = new GroundworkMetrics();
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b', { rpm: 2 })] } });
    const router = testRouter(routes, { clock, metrics, random: () => 0 });
    const asked: string[] = [];
    const dashboard = createDashboard(
      {
        database: opened.database,
        metrics,
        config: { llm: { logContent: false } },
        pipeline: {
          breakerStates: async () => [],
          // The provider-wide buckets (LLM_REQUESTS_PER_MINUTE), for whatever model is asked.
          rateLimitLevels: async (provider, model) => {
            asked.push(`${provider}/${model}`);
            return { requests: { level: 500, capacity: 500, windowMs: 60_000 }, tokens: undefined, waiting: 0 };
          },
          concurrency: () => [],
        },
        router,
        health: async () => ({ status: 'ok', checkedAt: '', dependencies: [] }),
      },
      { adminKey: undefined },
    );
    const targets = groupTargets(routes.groups.fast!);
    // Each deployment takes one call: a breaker for each, and b's bucket one request down.
    for (const target of targets) await router.execute({ targets: [target], estimatedTokens: 1 }, async () => ({ value: 'answer' }));

    const live = await liveState(dashboard);
    expect(asked).toEqual([]);
    expect(live.limits.map((limit) => [limit.model, limit.requests])).toEqual([
      ['fast/a', null],
      ['fast/b', { level: 1, capacity: 2, windowMs: 60_000 }],
    ]);
  });
});
