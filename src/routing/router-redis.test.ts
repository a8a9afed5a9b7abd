import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptInfo, AttemptResult } from '../llm/call-pipeline.js';
import { logger, serverError, testConfig, testRedis } from '../resilience/resilience.test-helpers.js';
import { ManualClock } from '../testing/manual-clock.js';
import { createRouter } from './create-router.js';
import { groupTargets, type Router } from './router.js';
import { deployment, routesOf } from './routing.test-helpers.js';

/* Two routers (two processes, as far as state goes) on one Redis share each deployment's circuit and buckets. */
describe('Router state shared through Redis', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  const routes = routesOf({ fast: { deployments: [deployment('fast', 'a', { rpm: 2 }), deployment('fast', 'b')] } });
  const router = (clock: ManualClock): Router =>
    createRouter(routes, testConfig({ circuitFailureThreshold: 1, maxAttempts: 1 }), {
      logger,
      clock,
      redis: redis.redis,
      keyPrefix: redis.prefix,
      random: () => 0,
    });
  const call = (target: Router, handler: (info: AttemptInfo) => Promise<AttemptResult<string>>) =>
    target.execute({ targets: groupTargets(routes.groups.fast!), estimatedTokens: 1 }, handler);
  const ok = async (info: AttemptInfo): Promise<AttemptResult<string>> => ({ value: info.target.deployment ?? '' });

  it('skips a deployment whose circuit another process opened, and shares its rate limit', async () => {
    const clock = new ManualClock(Date.now());
    const first = router(clock);
    const second = router(clock);
    // The first process spends one of a's two requests and opens nothing.
    expect((await call(first, ok)).value).toBe('a');
    // The second spends the other: the bucket is shared, so a third call anywhere skips a.
    expect((await call(second, ok)).value).toBe('a');
    const third = await call(first, ok);
    expect(third.value).toBe('b');
    expect(third.attempts[0]).toMatchObject({ deployment: 'a', outcome: 'skipped', errorCode: 'rate_limit_exceeded' });

    // A minute later a's bucket is full again; a failure in one process opens its circuit for both.
    clock.advance(60_000);
    const failing = await call(first, async (info) => (info.target.deployment === 'a' ? Promise.reject(serverError()) : ok(info)));
    expect(failing.value).toBe('b');
    const afterOpen = await call(second, ok);
    expect(afterOpen.value).toBe('b');
    expect(afterOpen.attempts[0]).toMatchObject({ deployment: 'a', outcome: 'skipped', errorCode: 'circuit_open' });
    await first.close();
    await second.close();
  });
});
