import { describe, expect, it } from 'vitest';
import { type AttemptResult, attemptsOf } from '../llm/call-pipeline.js';
import { serverError } from '../resilience/resilience.test-helpers.js';
import { ManualClock } from '../testing/manual-clock.js';
import { NoDeploymentAvailableError } from './no-deployment-error.js';
import { groupTargets } from './router.js';
import { deployment, routesOf, testRouter } from './routing.test-helpers.js';

/** An attempt's end, settled from outside. */
function pending(): { promise: Promise<AttemptResult<string>>; resolve(value: AttemptResult<string>): void; reject(error: unknown): void } {
  let resolve!: (value: AttemptResult<string>) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<AttemptResult<string>>((onValue, onError) => {
    resolve = onValue;
    reject = onError;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Router circuit breaker', () => {
  it('counts only consecutive failures: calls ending failure, success, failure, success, failure leave a threshold-3 circuit closed', async () => {
    const clock = new ManualClock();
    const routes = routesOf({ g: { deployments: [deployment('g', 'a')] } });
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 1, circuitFailureThreshold: 3 } });
    const targets = groupTargets(routes.groups.g!);
    // Five calls admitted together (no failure counted yet), ending one after another.
    const ends = Array.from({ length: 5 }, () => pending());
    let next = 0;
    const calls = ends.map(() => router.execute({ targets, estimatedTokens: 1 }, () => ends[next++]!.promise).catch(() => {}));
    await tick();
    expect(next).toBe(5);
    for (const [index, end] of ends.entries()) {
      if (index % 2 === 0) end.reject(serverError());
      else end.resolve({ value: 'ok' });
      await tick();
    }
    await Promise.all(calls);
    const after = await router.execute({ targets, estimatedTokens: 1 }, async () => ({ value: 'sent' }));
    expect(after.value).toBe('sent');
  });
});

/** Runs `call` to its end, moving the clock on 100 ms at a time while it waits. */
async function drive(clock: ManualClock, call: Promise<unknown>): Promise<unknown> {
  let settled = false;
  const ended = call.then(
    (value) => value,
    (error: unknown) => error,
  );
  void ended.finally(() => {
    settled = true;
  });
  for (let step = 0; step < 2000 && !settled; step++) {
    await tick();
    if (!settled) clock.advance(100);
  }
  return ended;
}

describe('Router and circuits opened by the call itself', () => {
  const routes = routesOf({ g: { deployments: [deployment('g', 'a'), deployment('g', 'b')] } });
  const targets = groupTargets(routes.groups.g!);

  it('fails with the last provider error, the circuit’s wait as its Retry-After, when every deployment was sent and failed', async () => {
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0, resilience: { circuitFailureThreshold: 1, circuitResetMs: 60_000 } });
    const started = clock.now();
    const error = await drive(
      clock,
      router.execute({ targets, estimatedTokens: 1 }, async () => Promise.reject(serverError())),
    );
    expect(error).toMatchObject({ code: 'provider_server_error', status: 503, retryable: true });
    expect((error as Error).message).toContain('Not retried: No deployment of model group "g"');
    // b's circuit opened last, a minute after its failure: trying again helps no sooner.
    const retryAfterMs = (error as { retryAfterMs: number }).retryAfterMs;
    expect(started + 60_000 - clock.now()).toBeLessThanOrEqual(retryAfterMs);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((attemptsOf(error) ?? []).map((attempt) => [attempt.deployment, attempt.outcome, attempt.errorCode])).toEqual([
      ['a', 'error', 'provider_server_error'],
      ['b', 'error', 'provider_server_error'],
      ['a', 'skipped', 'circuit_open'],
      ['b', 'skipped', 'circuit_open'],
    ]);
  });

  it('still refuses with no_deployment_available when a deployment was never sent in the call', async () => {
    const clock = new ManualClock();
    const router = testRouter(routes, {
      clock,
      random: () => 0,
      resilience: { circuitFailureThreshold: 1, circuitResetMs: 60_000, maxAttempts: 1 },
    });
    // An earlier call opens a's circuit and is answered by b.
    await router.execute({ targets, estimatedTokens: 1 }, async (info) => {
      if (info.target.deployment === 'a') throw serverError();
      return { value: 'b' };
    });
    const error = await drive(
      clock,
      router.execute({ targets, estimatedTokens: 1 }, async () => Promise.reject(serverError())),
    );
    expect(error).toBeInstanceOf(NoDeploymentAvailableError);
    expect((attemptsOf(error) ?? []).map((attempt) => [attempt.deployment, attempt.outcome])).toEqual([
      ['a', 'skipped'],
      ['b', 'error'],
    ]);
  });
});
