import { describe, expect, it } from 'vitest';
import type { AttemptResult } from '../llm/call-pipeline.js';
import { serverError } from '../resilience/resilience.test-helpers.js';
import { ManualClock } from '../testing/manual-clock.js';
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
