import { describe, expect, it } from 'vitest';
import { AuthenticationError, BadRequestError, RateLimitedError } from '../errors/provider-errors.js';
import type { AttemptInfo, AttemptResult, CallOutcome, CallTarget } from '../llm/call-pipeline.js';
import { attemptsOf } from '../llm/call-pipeline.js';
import { CallSignal, callSignalPlan } from '../llm/call-signal.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { RateLimitStoreUnavailableError } from '../resilience/errors.js';
import { MemoryBreakerStore } from '../resilience/memory-breaker-store.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import type { RateLimitStore } from '../resilience/rate-limit-store.js';
import { hang, logger, serverError } from '../resilience/resilience.test-helpers.js';
import { ManualClock } from '../testing/manual-clock.js';
import { NoDeploymentAvailableError } from './no-deployment-error.js';
import { deploymentKey, groupCallTargets, groupTargets, Router } from './router.js';
import type { DeploymentConfig, ModelGroupConfig, RoutesConfig } from './routes-config.js';
import { deployment, routesOf, sequence, testRouter } from './routing.test-helpers.js';

type Handler = (info: AttemptInfo) => Promise<AttemptResult<string>>;

const ok: Handler = async (info) => ({ value: `answer from ${info.target.deployment}` });

/** Runs a call on `group` (and its fallbacks), each deployment answering with its handler. */
function call(router: Router, routes: RoutesConfig, group: string, handlers: Record<string, Handler>): Promise<CallOutcome<string>> {
  const groups = [group, ...(routes.groups[group]?.fallbacks ?? [])];
  const targets = groups.flatMap((name) => groupTargets(routes.groups[name]!));
  return router.execute({ targets, estimatedTokens: 10 }, (info) => (handlers[info.target.deployment ?? ''] ?? ok)(info));
}

const sent = (outcome: { attempts: { deployment?: string; outcome: string }[] }) =>
  outcome.attempts.filter((attempt) => attempt.outcome !== 'skipped').map((attempt) => attempt.deployment);

describe('Router', () => {
  it('routes by the strategy, deterministically with an injected random source', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b', { weight: 3 })] } });
    const router = testRouter(routes, { clock: new ManualClock(), random: sequence(0.1, 0.9, 0.2, 0.3) });
    const answered: string[] = [];
    for (let index = 0; index < 4; index++) answered.push((await call(router, routes, 'fast', {})).target.deployment ?? '');
    expect(answered).toEqual(['a', 'b', 'a', 'b']);
  });

  it('skips a deployment whose circuit is open', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    // random 0: weighted random always prefers the first deployment it is offered.
    const router = testRouter(routes, { clock, random: () => 0, resilience: { circuitFailureThreshold: 1, maxAttempts: 1 } });
    const failing = { a: async () => Promise.reject(serverError()) };
    const first = await call(router, routes, 'fast', failing);
    expect(sent(first)).toEqual(['a', 'b']);
    const second = await call(router, routes, 'fast', failing);
    expect(sent(second)).toEqual(['b']);
    expect(second.attempts[0]).toMatchObject({ deployment: 'a', outcome: 'skipped', errorCode: 'circuit_open' });
  });

  it('gives the probe slot back when the limits cannot be read, so the circuit is probed again', async () => {
    const a = deployment('fast', 'a', { rpm: 100 });
    const routes = routesOf({ fast: { deployments: [a] } });
    const clock = new ManualClock();
    const memory = new MemoryRateLimitStore({ requests: { capacity: 100, windowMs: 60_000 }, tokens: undefined });
    let storeDown = false;
    const store: RateLimitStore = {
      take: (key, tokens, now) =>
        storeDown ? Promise.reject(new RateLimitStoreUnavailableError({ retryAfterMs: 1000 })) : memory.take(key, tokens, now),
      adjustTokens: (key, tokens, now) => memory.adjustTokens(key, tokens, now),
    };
    const breakerRules = { failureThreshold: 1, resetMs: 1000 };
    const router = new Router({
      routes,
      breaker: new CircuitBreaker({ store: new MemoryBreakerStore(breakerRules), clock, logger, resetMs: 1000 }),
      limits: new Map([[deploymentKey(a), store]]),
      retry: { maxAttempts: 1, minMs: 1, maxMs: 1, retryAfterMaxMs: 60_000, random: () => 0 },
      timeoutMs: 10_000,
      deadlineMs: 60_000,
      maxWaitMs: 0,
      clock,
      logger,
      metrics: undefined,
      random: () => 0,
    });
    await expect(call(router, routes, 'fast', { a: async () => Promise.reject(serverError()) })).rejects.toThrow();
    clock.advance(1000);
    storeDown = true;
    // The half-open circuit lets this call be its probe; the limits' store fails before it is sent.
    await expect(call(router, routes, 'fast', {})).rejects.toBeInstanceOf(RateLimitStoreUnavailableError);
    storeDown = false;
    // Had the probe slot stayed held, the circuit would refuse every call until the next reset.
    expect((await call(router, routes, 'fast', {})).target.deployment).toBe('a');
  });

  it('answers from a sibling when one deployment cannot read its limits and refuses, and fails with the store error when none can', async () => {
    const a = deployment('fast', 'a', { rpm: 100 });
    const routes = routesOf({
      fast: { deployments: [a, deployment('fast', 'b')] },
      alone: { deployments: [deployment('alone', 'c', { rpm: 100 })] },
    });
    const clock = new ManualClock();
    const down: RateLimitStore = {
      take: () => Promise.reject(new RateLimitStoreUnavailableError({ retryAfterMs: 1000 })),
      adjustTokens: () => Promise.resolve(),
    };
    const router = new Router({
      routes,
      breaker: new CircuitBreaker({ store: new MemoryBreakerStore({ failureThreshold: 5, resetMs: 1000 }), clock, logger, resetMs: 1000 }),
      limits: new Map([
        [deploymentKey(a), down],
        [deploymentKey(routes.groups.alone!.deployments[0]!), down],
      ]),
      retry: { maxAttempts: 3, minMs: 1, maxMs: 1, retryAfterMaxMs: 60_000, random: () => 0 },
      timeoutMs: 10_000,
      deadlineMs: 60_000,
      maxWaitMs: 0,
      clock,
      logger,
      metrics: undefined,
      random: () => 0,
    });
    const outcome = await call(router, routes, 'fast', {});
    expect(sent(outcome)).toEqual(['b']);
    expect(outcome.attempts[0]).toMatchObject({ deployment: 'a', outcome: 'skipped', errorCode: 'rate_limit_store_unavailable' });
    await expect(call(router, routes, 'alone', {})).rejects.toBeInstanceOf(RateLimitStoreUnavailableError);
  });

  it('fails with a sibling’s provider error, not the unreadable limits, when that sibling was sent and failed', async () => {
    const a = deployment('fast', 'a', { rpm: 100 });
    const routes = routesOf({ fast: { deployments: [a, deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const down: RateLimitStore = {
      take: () => Promise.reject(new RateLimitStoreUnavailableError({ retryAfterMs: 1000 })),
      adjustTokens: () => Promise.resolve(),
    };
    const router = new Router({
      routes,
      breaker: new CircuitBreaker({ store: new MemoryBreakerStore({ failureThreshold: 5, resetMs: 1000 }), clock, logger, resetMs: 1000 }),
      limits: new Map([[deploymentKey(a), down]]),
      retry: { maxAttempts: 3, minMs: 1, maxMs: 1, retryAfterMaxMs: 60_000, random: () => 0 },
      timeoutMs: 10_000,
      deadlineMs: 60_000,
      maxWaitMs: 30_000,
      clock,
      logger,
      metrics: undefined,
      random: () => 0,
    });
    let settled = false;
    const failed = call(router, routes, 'fast', { b: async () => Promise.reject(serverError()) })
      .catch((error: unknown) => error)
      .finally(() => {
        settled = true;
      });
    for (let step = 0; step < 100 && !settled; step++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!settled) clock.advance(100);
    }
    const error = await failed;
    expect(error).toMatchObject({ code: 'provider_server_error' });
    expect((attemptsOf(error) ?? []).filter((attempt) => attempt.outcome === 'error').map((attempt) => attempt.deployment)).toEqual([
      'b',
      'b',
      'b',
    ]);
  });

  it('skips an open-circuit sibling once while the call waits for a busy one, not on every look', async () => {
    const clock = new ManualClock();
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a', { maxConcurrent: 1 }), deployment('fast', 'b')] } });
    const router = testRouter(routes, {
      clock,
      random: () => 0.99,
      resilience: { maxAttempts: 1, circuitFailureThreshold: 1, rateLimitMaxWaitMs: 30_000 },
    });
    const targets = groupTargets(routes.groups.fast!);
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    // b fails once, which opens its circuit for a minute; a answers.
    await call(router, routes, 'fast', { b: async () => Promise.reject(serverError()) });
    // a's one slot is held by a call that does not end.
    const holder = router.execute({ targets, estimatedTokens: 1 }, hang).catch((error: unknown) => error);
    await tick();
    const waiting = router.execute({ targets, estimatedTokens: 1 }, ok).catch((error: unknown) => error);
    for (let step = 0; step < 700; step++) {
      await tick();
      clock.advance(50);
    }
    const error = await waiting;
    expect(error).toBeInstanceOf(NoDeploymentAvailableError);
    const skipped = (attemptsOf(error) ?? []).filter((attempt) => attempt.deployment === 'b');
    expect(skipped).toEqual([expect.objectContaining({ outcome: 'skipped', errorCode: 'circuit_open' })]);
    clock.advance(120_000);
    await holder;
  });

  it('skips a deployment whose rate limit is spent', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a', { rpm: 1 }), deployment('fast', 'b')] } });
    const router = testRouter(routes, { clock: new ManualClock(), random: () => 0 });
    expect((await call(router, routes, 'fast', {})).target.deployment).toBe('a');
    const second = await call(router, routes, 'fast', {});
    expect(second.target.deployment).toBe('b');
    expect(second.attempts[0]).toMatchObject({ deployment: 'a', outcome: 'skipped', errorCode: 'rate_limit_exceeded' });
  });

  it('moves a 429 to a sibling at once, without waiting, and keeps the throttled one out until its Retry-After', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0 });
    const throttled = {
      a: async () => Promise.reject(new RateLimitedError('slow down', { provider: 'openai', status: 429, retryAfterMs: 30_000 })),
    };
    const started = clock.now();
    const first = await call(router, routes, 'fast', throttled);
    expect(sent(first)).toEqual(['a', 'b']);
    expect(clock.now()).toBe(started); // no backoff, no Retry-After wait
    expect(clock.pendingTimers).toBe(0);
    const second = await call(router, routes, 'fast', throttled);
    expect(sent(second)).toEqual(['b']);
    clock.advance(30_000);
    expect(sent(await call(router, routes, 'fast', {}))).toEqual(['a']);
  });

  it('waits for the first deployment to free when every one is throttled, within the wait limit', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0, resilience: { rateLimitMaxWaitMs: 5000 } });
    let throttles = 2;
    const handler: Handler = async (info) => {
      if (throttles-- > 0) throw new RateLimitedError('slow down', { provider: 'openai', status: 429, retryAfterMs: 2000 });
      return ok(info);
    };
    const pending = call(router, routes, 'fast', { a: handler, b: handler });
    await new Promise((resolve) => setImmediate(resolve));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(2000);
    const outcome = await pending;
    expect(sent(outcome)).toEqual(['a', 'b', 'a']);

    throttles = 2;
    const refused = call(router, routes, 'fast', {
      a: async () => Promise.reject(new RateLimitedError('slow down', { provider: 'openai', status: 429, retryAfterMs: 10_000 })),
      b: async () => Promise.reject(new RateLimitedError('slow down', { provider: 'openai', status: 429, retryAfterMs: 10_000 })),
    });
    await expect(refused).rejects.toBeInstanceOf(NoDeploymentAvailableError);
  });

  it('wakes a call waiting for a concurrency slot only on a release in its own group, and loses no waiter', async () => {
    const routes = routesOf({
      busy: { deployments: [deployment('busy', 'a', { maxConcurrent: 1 })] },
      other: { deployments: [deployment('other', 'b', { maxConcurrent: 1 })] },
    });
    // Counts the pauses of waiting calls: each sets one timer of the busy recheck (50 ms); attempt timeouts are longer.
    let pauses = 0;
    const clock = new (class extends ManualClock {
      override setTimeout(callback: () => void, ms: number) {
        if (ms <= 50) pauses++;
        return super.setTimeout(callback, ms);
      }
    })();
    const router = testRouter(routes, { clock, resilience: { rateLimitMaxWaitMs: 60_000 } });
    const releases: Array<() => void> = [];
    const held: Handler = (info) =>
      new Promise((resolve) => releases.push(() => resolve({ value: `answer from ${info.target.deployment}` })));
    const calls = Array.from({ length: 4 }, () => call(router, routes, 'busy', { a: held }));
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    await tick();
    expect(releases).toHaveLength(1);
    expect(pauses).toBe(3);
    // Twenty calls come and go in the other group: the three waiting in "busy" sleep on.
    for (let index = 0; index < 20; index++) await call(router, routes, 'other', {});
    await tick();
    expect(pauses).toBe(3);
    // Each release in "busy" lets the next waiter in, with no time passing: none is left behind.
    for (let served = 1; served <= 4; served++) {
      expect(releases).toHaveLength(served);
      releases[served - 1]?.();
      await tick();
      await tick();
    }
    const outcomes = await Promise.all(calls);
    expect(outcomes.map((outcome) => outcome.value)).toEqual(Array(4).fill('answer from a'));
  });

  it('keeps one deadline across every deployment', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0, resilience: { deadlineMs: 1000, timeoutMs: 600 } });
    const pending = call(router, routes, 'fast', { a: hang, b: hang });
    const settled = pending.catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(600); // a times out: b gets what is left of the deadline
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(400);
    const error = (await settled) as Error & { code: string };
    expect(error.code).toBe('deadline_exceeded');
    expect(attemptsOf(error)?.map((attempt) => attempt.deployment)).toEqual(['a', 'b']);
  });

  it('falls back to another group when every deployment of the first has failed', async () => {
    const routes = routesOf({
      fast: { deployments: [deployment('fast', 'a')], fallbacks: ['safe'] },
      safe: { deployments: [deployment('safe', 'c')] },
    });
    const router = testRouter(routes, { clock: new ManualClock(), resilience: { maxAttempts: 1 } });
    const outcome = await call(router, routes, 'fast', { a: async () => Promise.reject(serverError()) });
    expect(outcome.target).toMatchObject({ group: 'safe', deployment: 'c' });
    expect(outcome.value).toBe('answer from c');
  });

  it('fails at once on an error another deployment would repeat (a bad request)', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const router = testRouter(routes, { clock: new ManualClock(), random: () => 0 });
    const bad = async () => Promise.reject(new BadRequestError('bad', { provider: 'openai', status: 400 }));
    const error = await call(router, routes, 'fast', { a: bad, b: bad }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(attemptsOf(error)?.length).toBe(1);
  });

  it("moves on when one deployment's key is refused", async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const router = testRouter(routes, { clock: new ManualClock(), random: () => 0 });
    const refused = async () => Promise.reject(new AuthenticationError('bad key', { provider: 'openai', status: 401 }));
    const outcome = await call(router, routes, 'fast', { a: refused });
    expect(sent(outcome)).toEqual(['a', 'b']);
  });

  it('counts attempts per deployment in metrics', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const metrics = new GroundworkMetrics();
    const router = testRouter(routes, { clock: new ManualClock(), random: () => 0, metrics, resilience: { maxAttempts: 1 } });
    await call(router, routes, 'fast', { a: async () => Promise.reject(serverError()) });
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'groundwork_llm_deployment_attempts_total{group="fast",deployment="a",provider="openai",model="model-a",outcome="provider_server_error"} 1',
    );
    expect(text).toContain(
      'groundwork_llm_deployment_attempts_total{group="fast",deployment="b",provider="openai",model="model-b",outcome="success"} 1',
    );
  });
});

describe('Router cancellation', () => {
  it('rejects a call aborted before or while routing with the call’s reason, though its shared signal is live', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const router = testRouter(routes, { clock: new ManualClock() });
    const targets = groupTargets(routes.groups.fast!);
    const before = new CallSignal([], undefined, new AbortController().signal);
    before.abort(new Error('abandoned before'));
    let sent = 0;
    const count: Handler = async (info) => {
      sent++;
      return ok(info);
    };
    await expect(router.execute(callSignalPlan(targets, 10, before), count)).rejects.toThrow('abandoned before');
    expect(sent).toBe(0);

    // Aborted during its first attempt: the call ends with the abort's reason, and no sibling is tried.
    const during = new CallSignal([], undefined, new AbortController().signal);
    const failed = router.execute(callSignalPlan(targets, 10, during), async () => {
      sent++;
      during.abort(new Error('abandoned during'));
      throw serverError();
    });
    await expect(failed).rejects.toThrow('abandoned during');
    expect(sent).toBe(1);
  });
});

describe('groupCallTargets', () => {
  /** Routes frozen through and through, as a validated routes file is. */
  const frozenRoutes = (...args: Parameters<typeof routesOf>): RoutesConfig => {
    const routes = routesOf(...args);
    for (const group of Object.values(routes.groups)) {
      for (const entry of group.deployments) Object.freeze(entry);
      Object.freeze(group.deployments);
      Object.freeze(group.fallbacks);
      Object.freeze(group);
    }
    Object.freeze(routes.groups);
    return routes;
  };

  it('hands out each call its own array of a frozen file’s targets, each target frozen', () => {
    const { groups } = frozenRoutes({
      fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')], fallbacks: ['slow'] },
      slow: { deployments: [deployment('slow', 'c')] },
    });
    const first = groupCallTargets(groups, 'fast');
    expect(first?.map((target) => target.deployment)).toEqual(['a', 'b', 'c']);
    first?.push({ provider: 'openai', model: 'extra' });
    expect(() => {
      (first?.[0] as CallTarget).model = 'changed';
    }).toThrow(TypeError);
    const second = groupCallTargets(groups, 'fast');
    expect(second?.map((target) => `${target.deployment}:${target.model}`)).toEqual(['a:model-a', 'b:model-b', 'c:model-c']);
    expect(second?.[0]).toBe(first?.[0]);
    expect(groupCallTargets(groups, 'none')).toBeUndefined();
  });

  it('reads groups that are not frozen afresh on every call', () => {
    const groups: Record<string, ModelGroupConfig> = { ...routesOf({ fast: { deployments: [deployment('fast', 'a')] } }).groups };
    expect(groupCallTargets(groups, 'fast')).toHaveLength(1);
    groups.fast = { ...(groups.fast as ModelGroupConfig), deployments: [deployment('fast', 'a'), deployment('fast', 'b')] };
    expect(groupCallTargets(groups, 'fast')).toHaveLength(2);
  });

  it('reads afresh a frozen record whose group, fallback group or deployment may still change', () => {
    const { groups } = routesOf({
      fast: { deployments: [deployment('fast', 'a')], fallbacks: ['slow'] },
      slow: { deployments: [deployment('slow', 'c')] },
    });
    Object.freeze(groups);
    const fast = groups.fast as ModelGroupConfig;
    const slow = groups.slow as ModelGroupConfig;
    expect(groupCallTargets(groups, 'fast')).toHaveLength(2);
    (fast.deployments as DeploymentConfig[]).push(deployment('fast', 'b'));
    expect(groupCallTargets(groups, 'fast')?.map((target) => target.deployment)).toEqual(['a', 'b', 'c']);

    // Everything frozen but one deployment of the fallback group.
    for (const group of [fast, slow]) {
      Object.freeze(group.fallbacks);
      Object.freeze(group.deployments);
      Object.freeze(group);
    }
    for (const entry of fast.deployments) Object.freeze(entry);
    expect(groupCallTargets(groups, 'fast')?.[2]?.model).toBe('model-c');
    (slow.deployments[0] as { model: string }).model = 'model-c2';
    expect(groupCallTargets(groups, 'fast')?.[2]?.model).toBe('model-c2');
  });
});
