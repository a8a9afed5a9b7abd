import { describe, expect, it } from 'vitest';
import { AuthenticationError, BadRequestError, QuotaExhaustedError, RateLimitedError } from '../errors/provider-errors.js';
import type { AttemptInfo, AttemptResult, CallOutcome } from '../llm/call-pipeline.js';
import { attemptsOf } from '../llm/call-pipeline.js';
import { RetryAfterTooLongError } from '../resilience/errors.js';
import { serverError } from '../resilience/resilience.test-helpers.js';
import { ManualClock } from '../testing/manual-clock.js';
import { NoDeploymentAvailableError } from './no-deployment-error.js';
import { groupTargets, type Router } from './router.js';
import type { RoutesConfig } from './routes-config.js';
import { deployment, routesOf, testRouter } from './routing.test-helpers.js';

/* A model group whose deployments answer 429: throttled, or with the account's quota spent. */

type Handler = (info: AttemptInfo) => Promise<AttemptResult<string>>;

const throttled = (retryAfterMs?: number) =>
  new RateLimitedError('slow down', { provider: 'openai', status: 429, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
const quotaSpent = () => new QuotaExhaustedError('You exceeded your current quota', { provider: 'openai', status: 429 });

/** More sends than any bounded call makes: past it the handler fails the call, so a runaway loop ends. */
const RUNAWAY = 100;

/**
 * Runs a call on `group` (and its fallbacks) with each deployment's handler, moving `clock` on by
 * `stepMs` whenever the call is left waiting, until it settles. Counts the requests sent per deployment.
 */
async function drive(
  router: Router,
  routes: RoutesConfig,
  group: string,
  handlers: Record<string, Handler>,
  clock: ManualClock,
  stepMs = 1000,
): Promise<{ outcome: CallOutcome<string> | undefined; error: unknown; sent: Record<string, number> }> {
  const sent: Record<string, number> = {};
  let total = 0;
  const targets = [group, ...(routes.groups[group]?.fallbacks ?? [])].flatMap((name) => groupTargets(routes.groups[name]!));
  let settled = false;
  const pending = router
    .execute({ targets, estimatedTokens: 10 }, async (info) => {
      const name = info.target.deployment ?? '';
      sent[name] = (sent[name] ?? 0) + 1;
      if (++total > RUNAWAY) throw new BadRequestError('runaway: the call never ends', { provider: 'openai', status: 400 });
      const handler = handlers[name];
      return handler === undefined ? { value: `answer from ${name}` } : handler(info);
    })
    .then(
      (outcome) => ({ outcome, error: undefined }),
      (error: unknown) => ({ outcome: undefined, error }),
    )
    .finally(() => {
      settled = true;
    });
  for (let step = 0; step < 1000 && !settled; step++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled) clock.advance(stepMs);
  }
  return { ...(await pending), sent };
}

describe('Router and a deployment that keeps answering 429', () => {
  it('sends at most LLM_MAX_ATTEMPTS requests for a Retry-After of 0, a second apart, and fails with the rate limit', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 3 } });
    const started = clock.now();
    const { error, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(0)) }, clock);
    expect(sent).toEqual({ a: 3 });
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ code: 'provider_rate_limited', retryable: true, retryAfterMs: 0 });
    const message = (error as Error).message;
    expect(message).toContain('rate limited (HTTP 429)');
    expect(message).toContain('retryable');
    expect(message).toContain('provider asked to wait 0 ms');
    expect(message).toContain('gave up after 3 attempts');
    expect(attemptsOf(error)?.map((attempt) => [attempt.deployment, attempt.attempt, attempt.errorCode])).toEqual([
      ['a', 1, 'provider_rate_limited'],
      ['a', 2, 'provider_rate_limited'],
      ['a', 3, 'provider_rate_limited'],
    ]);
    // A Retry-After of 0 still keeps the deployment out for the 1 s a 429 without one does.
    expect(clock.now() - started).toBe(2000);
  });

  it('sends at most LLM_MAX_ATTEMPTS requests for a short Retry-After, rather than until the wait limit', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 3, rateLimitMaxWaitMs: 30_000 } });
    const { error, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(2000)) }, clock);
    expect(sent).toEqual({ a: 3 });
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 2000 });
  });

  it('gives a tiny Retry-After the same minimum throttle', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 2 } });
    const started = clock.now();
    const { sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(1)) }, clock, 1);
    expect(sent).toEqual({ a: 2 });
    expect(clock.now() - started).toBe(1000);
  });

  it('counts 429s per deployment, so every deployment of the group gets its attempts and no more', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0, resilience: { maxAttempts: 3 } });
    const refuse = async () => Promise.reject(throttled(0));
    const { error, sent } = await drive(router, routes, 'fast', { a: refuse, b: refuse }, clock);
    expect(sent).toEqual({ a: 3, b: 3 });
    expect(error).toBeInstanceOf(RateLimitedError);
  });

  it('counts 429s and 5xx together toward the attempts of a deployment', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 3, retryMinMs: 10, retryMaxMs: 10 } });
    let calls = 0;
    const mixed = async () => Promise.reject(calls++ % 2 === 0 ? throttled(0) : serverError());
    const { sent } = await drive(router, routes, 'fast', { a: mixed }, clock);
    expect(sent).toEqual({ a: 3 });
  });

  it('answers from a deployment that frees within its attempts', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 3 } });
    let refusals = 2;
    const { outcome, sent } = await drive(
      router,
      routes,
      'fast',
      { a: async () => (refusals-- > 0 ? Promise.reject(throttled(0)) : { value: 'answer' }) },
      clock,
    );
    expect(sent).toEqual({ a: 3 });
    expect(outcome?.value).toBe('answer');
  });

  it('goes on to the fallback group once the attempts on the first are spent', async () => {
    const routes = routesOf({
      fast: { deployments: [deployment('fast', 'a')], fallbacks: ['safe'] },
      safe: { deployments: [deployment('safe', 'c')] },
    });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 1 } });
    const started = clock.now();
    const { outcome, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(0)) }, clock);
    expect(sent).toEqual({ a: 1, c: 1 });
    expect(outcome?.target.deployment).toBe('c');
    expect(clock.now()).toBe(started);
  });

  it('still refuses with "no deployment available" when the Retry-After is longer than the call may wait', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 3, rateLimitMaxWaitMs: 5000 } });
    const { error, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(10_000)) }, clock);
    expect(sent).toEqual({ a: 1 });
    expect(error).toBeInstanceOf(NoDeploymentAvailableError);
    expect(error).toMatchObject({ retryAfterMs: 10_000, retryable: true });
  });
});

describe('Router and a Retry-After longer than LLM_RETRY_AFTER_MAX_MS', () => {
  const hour = 3_600_000;

  it('keeps the deployment out for the whole Retry-After and fails with retry_after_too_long, its real retryAt', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 3, retryAfterMaxMs: 60_000 } });
    const started = clock.now();
    const { error, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(hour)) }, clock);
    expect(sent).toEqual({ a: 1 });
    expect(error).toBeInstanceOf(RetryAfterTooLongError);
    expect(error).toMatchObject({ code: 'retry_after_too_long', retryable: false, retryAfterMs: hour, retryAt: started + hour });
    expect(clock.now()).toBe(started);
    // A minute later the provider still refuses: nothing is sent, and the caller is told the real wait.
    clock.advance(61_000);
    const next = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(hour)) }, clock);
    expect(next.sent).toEqual({});
    expect(next.error).toMatchObject({ retryAfterMs: hour - 61_000 });
  });

  it('answers from a sibling when one deployment asks for too long a pause', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0, resilience: { retryAfterMaxMs: 60_000 } });
    const { outcome, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(throttled(hour)) }, clock);
    expect(sent).toEqual({ a: 1, b: 1 });
    expect(outcome?.target.deployment).toBe('b');
  });

  it('does not retry a 5xx whose Retry-After is too long on the same deployment', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, resilience: { maxAttempts: 3, retryAfterMaxMs: 60_000 } });
    const unavailable = () => serverError('openai', hour);
    const { error, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(unavailable()) }, clock);
    expect(sent).toEqual({ a: 1 });
    expect(error).toBeInstanceOf(RetryAfterTooLongError);
    expect(error).toMatchObject({ retryAfterMs: hour });
  });
});

describe('Router and a 5xx whose Retry-After is shorter than LLM_RETRY_MIN_MS', () => {
  it('waits at least LLM_RETRY_MIN_MS before sending the same deployment again, for a Retry-After of 0 or a few ms', async () => {
    for (const retryAfterMs of [0, 5]) {
      const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
      const clock = new ManualClock();
      const router = testRouter(routes, { clock, resilience: { maxAttempts: 3, retryMinMs: 2000, retryMaxMs: 10_000 } });
      const times: number[] = [];
      const failing: Handler = async () => {
        times.push(clock.now());
        throw serverError('openai', retryAfterMs);
      };
      const { error, sent } = await drive(router, routes, 'fast', { a: failing }, clock, 100);
      expect(sent).toEqual({ a: 3 });
      expect(error).toMatchObject({ code: 'provider_server_error' });
      for (const [index, time] of times.slice(1).entries()) expect(time - (times[index] as number)).toBeGreaterThanOrEqual(2000);
    }
  });
});

describe('Router and a deployment whose quota is spent', () => {
  it('fails with the quota error, not retryable, after one request', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock });
    const started = clock.now();
    const { error, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(quotaSpent()) }, clock);
    expect(sent).toEqual({ a: 1 });
    expect(error).toBeInstanceOf(QuotaExhaustedError);
    expect(error).toMatchObject({ code: 'provider_quota_exhausted', retryable: false });
    expect(clock.now()).toBe(started);
  });

  it('leaves that deployment out of the call and answers from a sibling', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0 });
    const { outcome, sent } = await drive(router, routes, 'fast', { a: async () => Promise.reject(quotaSpent()) }, clock);
    expect(sent).toEqual({ a: 1, b: 1 });
    expect(outcome?.target.deployment).toBe('b');
  });

  it('fails with the quota error when every deployment has spent its quota, each asked once', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0 });
    const spent = async () => Promise.reject(quotaSpent());
    const { error, sent } = await drive(router, routes, 'fast', { a: spent, b: spent }, clock);
    expect(sent).toEqual({ a: 1, b: 1 });
    expect(error).toBeInstanceOf(QuotaExhaustedError);
    expect(error).toMatchObject({ retryable: false });
  });

  it('does not keep the next call waiting on a deployment whose quota was spent: it is asked again', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock });
    const spent = { a: async () => Promise.reject(quotaSpent()) };
    await drive(router, routes, 'fast', spent, clock);
    const started = clock.now();
    const { error, sent } = await drive(router, routes, 'fast', spent, clock);
    expect(sent).toEqual({ a: 1 });
    expect(error).toBeInstanceOf(QuotaExhaustedError);
    expect(clock.now()).toBe(started);
    // Credit added: the next call is answered.
    expect((await drive(router, routes, 'fast', {}, clock)).outcome?.value).toBe('answer from a');
  });

  it('fails with the last error when the other deployments are left out for other reasons', async () => {
    const routes = routesOf({ fast: { deployments: [deployment('fast', 'a'), deployment('fast', 'b')] } });
    const clock = new ManualClock();
    const router = testRouter(routes, { clock, random: () => 0 });
    const refused = async () => Promise.reject(new AuthenticationError('bad key', { provider: 'openai', status: 401 }));
    const { error, sent } = await drive(router, routes, 'fast', { a: refused, b: async () => Promise.reject(quotaSpent()) }, clock);
    expect(sent).toEqual({ a: 1, b: 1 });
    expect(error).toBeInstanceOf(QuotaExhaustedError);
  });
});
