import { describe, expect, it } from 'vitest';
import { AuthenticationError, BadRequestError, QuotaExhaustedError, RateLimitedError } from '../errors/provider-errors.js';
import type { AttemptInfo, AttemptResult, CallOutcome } from '../llm/call-pipeline.js';
import { ManualClock } from '../testing/manual-clock.js';
import { groupTargets, type Router } from './router.js';
import type { RoutesConfig } from './routes-config.js';
import { deployment, routesOf, testRouter } from './routing.test-helpers.js';

/* A model group whose deployments answer 429: throttled, or with the account's quota spent. */

type Handler = (info: AttemptInfo) => Promise<AttemptResult<string>>;

const _throttled = (retryAfterMs?: number) =>
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
