import { describe, expect, it } from 'vitest';
import type { CallOutcome } from '../llm/call-pipeline.js';
import { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { PipelineClosedError } from '../resilience/errors.js';
import { MemoryBreakerStore } from '../resilience/memory-breaker-store.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import type { RateLimitStore, TakeResult } from '../resilience/rate-limit-store.js';
import { hang, logger } from '../resilience/resilience.test-helpers.js';
import { ManualClock } from '../testing/manual-clock.js';
import { deploymentKey, groupTargets, Router } from './router.js';
import { deployment, routesOf, testRouter } from './routing.test-helpers.js';

/* A call aborted, or a router closed, while a deployment's shared limits are being read. */

/**
 * A router over one deployment whose minute's one request is spent, in a store whose reads the
 * test answers by hand (as a shared store answers after a round trip): `answerTake` lets the
 * pending read through.
 */
async function routerWithSlowLimits({ spent = true }: { spent?: boolean } = {}) {
  const a = deployment('fast', 'a', { rpm: 1 });
  const routes = routesOf({ fast: { deployments: [a] } });
  const clock = new ManualClock();
  const memory = new MemoryRateLimitStore({ requests: { capacity: 1, windowMs: 60_000 }, tokens: undefined });
  if (spent) await memory.take(deploymentKey(a), 0, clock.now());
  const pendingTakes: Array<() => void> = [];
  const store: RateLimitStore = {
    take: (key, tokens, now) =>
      new Promise<TakeResult>((resolve, reject) => {
        pendingTakes.push(() => memory.take(key, tokens, now).then(resolve, reject));
      }),
    adjustTokens: (key, tokens, now) => memory.adjustTokens(key, tokens, now),
  };
  const router = new Router({
    routes,
    breaker: new CircuitBreaker({ store: new MemoryBreakerStore({ failureThreshold: 5, resetMs: 1000 }), clock, logger, resetMs: 1000 }),
    limits: new Map([[deploymentKey(a), store]]),
    retry: { maxAttempts: 3, minMs: 1, maxMs: 1, retryAfterMaxMs: 60_000, random: () => 0 },
    timeoutMs: 600_000,
    deadlineMs: 900_000,
    // Long enough to wait for the minute's next request.
    maxWaitMs: 120_000,
    clock,
    logger,
    metrics: undefined,
    random: () => 0,
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  /** Waits for the store to be asked, then answers it. */
  const answerTake = async (): Promise<void> => {
    for (let index = 0; index < 20 && pendingTakes.length === 0; index++) await tick();
    const next = pendingTakes.shift();
    if (next === undefined) throw new Error('the router never read the limits');
    next();
  };
  return { routes, clock, router, answerTake, tick };
}

/** Whether `promise` has settled, and how, without waiting for it. */
function watch<T>(promise: Promise<T>): { readonly state: string } {
  const watched = { state: 'pending' };
  promise.then(
    () => {
      watched.state = 'resolved';
    },
    (error: Error) => {
      watched.state = `rejected: ${error.message}`;
    },
  );
  return watched;
}

describe('Router: a call ended while a deployment’s shared limits are read', () => {
  it('ends a call its caller aborts then at the abort, not after the wait for the deployment to free', async () => {
    const { routes, clock, router, answerTake, tick } = await routerWithSlowLimits();
    const caller = new AbortController();
    let sent = 0;
    const outcome: Promise<CallOutcome<string>> = router.execute(
      { targets: groupTargets(routes.groups.fast!), estimatedTokens: 10, signal: caller.signal },
      async () => {
        sent++;
        return { value: 'answer' };
      },
    );
    const watched = watch(outcome);
    const started = clock.now();
    caller.abort(new Error('client went away'));
    await answerTake(); // the limits say: spent for a minute
    for (let index = 0; index < 5; index++) await tick();
    expect(watched.state).toBe('rejected: client went away');
    expect(clock.now()).toBe(started);
    expect(clock.pendingTimers).toBe(0);
    expect(sent).toBe(0);
  });

  it('ends a call at once when the router closes then', async () => {
    const { routes, clock, router, answerTake, tick } = await routerWithSlowLimits();
    const outcome = router.execute({ targets: groupTargets(routes.groups.fast!), estimatedTokens: 10 }, async () => ({ value: 'answer' }));
    const watched = watch(outcome);
    await router.close();
    await answerTake();
    for (let index = 0; index < 5; index++) await tick();
    expect(watched.state).toMatch(/^rejected: The call pipeline was closed/);
    expect(clock.pendingTimers).toBe(0);
  });

  it('sends nothing when the router closes then, though the limits let the call through', async () => {
    const { routes, clock, router, answerTake, tick } = await routerWithSlowLimits({ spent: false });
    let sent = 0;
    const outcome = router.execute({ targets: groupTargets(routes.groups.fast!), estimatedTokens: 10 }, async () => {
      sent++;
      return { value: 'answer' };
    });
    const watched = watch(outcome);
    await router.close();
    await answerTake(); // the limits say: go
    for (let index = 0; index < 5; index++) await tick();
    expect(watched.state).toMatch(/^rejected: The call pipeline was closed/);
    expect(sent).toBe(0);
    expect(router.states().map((state) => state.inFlight)).toEqual([0]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('still waits for the deployment to free when nothing ends the call', async () => {
    const { routes, clock, router, answerTake, tick } = await routerWithSlowLimits();
    const outcome = router.execute({ targets: groupTargets(routes.groups.fast!), estimatedTokens: 10 }, async () => ({ value: 'answer' }));
    const watched = watch(outcome);
    await answerTake();
    for (let index = 0; index < 5; index++) await tick();
    expect(watched.state).toBe('pending');
    expect(clock.pendingTimers).toBe(1);
    clock.advance(60_000);
    await answerTake(); // the next minute's request
    expect((await outcome).value).toBe('answer');
  });
});

describe('Router.close', () => {
  it('refuses a call waiting for a deployment as pipeline_closed, and sends nothing after', async () => {
    const clock = new ManualClock();
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a', { maxConcurrent: 1 })] } });
    const router = testRouter(routes, { clock });
    const targets = groupTargets(routes.groups.fast!);
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const holder = router.execute({ targets, estimatedTokens: 1 }, hang).catch((error: unknown) => error);
    await tick();
    const waiting = router.execute({ targets, estimatedTokens: 1 }, async () => ({ value: 'answer' })).catch((error: unknown) => error);
    await tick();
    await router.close();
    const refused = await waiting;
    expect(refused).toBeInstanceOf(PipelineClosedError);
    expect(refused).toMatchObject({ code: 'pipeline_closed' });
    clock.advance(120_000);
    await holder;
    let sent = 0;
    const after = router.execute({ targets, estimatedTokens: 1 }, async () => {
      sent++;
      return { value: 'answer' };
    });
    await expect(after).rejects.toBeInstanceOf(PipelineClosedError);
    expect(sent).toBe(0);
  });
});
