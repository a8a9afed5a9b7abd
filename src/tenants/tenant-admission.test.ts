import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PriceBook } from '../llm/pricing.js';
import { RedisRateLimitStore } from '../resilience/redis-rate-limit-store.js';
import { testRedis } from '../resilience/resilience.test-helpers.js';
import type { DeploymentConfig, ModelGroupConfig } from '../routing/routes-config.js';
import { ManualClock } from '../testing/manual-clock.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import type { Team } from './team.js';
import { type Admission, callerModels, TenantAdmission } from './tenant-admission.js';
import { BudgetExceededError, KeyRefusedError, ModelNotAllowedError, ModelNotPricedError, TenantLimitError } from './tenant-refusals.js';
import { OPEN_SETTINGS, type TenantSettings } from './tenant-settings.js';
import type { VirtualKey } from './virtual-key.js';

/** $1 per thousand output tokens and $0.1 per thousand input tokens: budgets of cents are reached in a few calls. */
const prices = new PriceBook({
  'metered-model': { input: 100, output: 1000 },
  'dear-fallback': { input: 100, output: 3000 },
  'dear-input': { input: 2000, output: 1000 },
});

let redis: Awaited<ReturnType<typeof testRedis>>;
let sequence = 0;

beforeAll(async () => {
  redis = await testRedis();
});

afterAll(async () => {
  await redis?.close();
});

function makeKey(settings: Partial<TenantSettings> & Partial<Pick<VirtualKey, 'expiresAt' | 'revokedAt' | 'teamId'>> = {}): VirtualKey {
  const id = `key_test${++sequence}_${Date.now().toString(36)}`;
  return {
    ...OPEN_SETTINGS,
    id,
    name: id,
    prefix: 'gw-abcdef',
    teamId: null,
    expiresAt: null,
    revokedAt: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...settings,
  };
}

function makeTeam(settings: Partial<TenantSettings> = {}): Team {
  const id = `team_test${++sequence}_${Date.now().toString(36)}`;
  return { ...OPEN_SETTINGS, id, name: id, createdAt: new Date(), updatedAt: new Date(), ...settings };
}

function admission(
  options: {
    maxWaitMs?: number;
    maxOutputTokens?: number;
    minOutputTokens?: number;
    fallbackModels?: string[];
    groups?: Record<string, ModelGroupConfig>;
    clock?: ManualClock;
  } = {},
): TenantAdmission {
  return new TenantAdmission({
    budgets: new RedisBudgetStore(redis.redis, redis.prefix),
    rateLimits: (rules) => new RedisRateLimitStore(redis.redis, rules, redis.prefix),
    prices,
    maxWaitMs: options.maxWaitMs ?? 200,
    maxOutputTokens: options.maxOutputTokens ?? 100,
    minOutputTokens: options.minOutputTokens ?? 10,
    fallbackModels: options.fallbackModels,
    groups: options.groups,
    clock: options.clock,
  });
}

/** A model group of the routes file whose deployments serve `models`, one each. */
function group(name: string, models: string[], fallbacks: string[] = []): ModelGroupConfig {
  const deployments = models.map((model, index) => ({ name: `d${index}`, group: name, provider: 'openai', model, weight: 1 }));
  return { name, strategy: 'weighted-random', fallbacks, deployments: deployments as unknown as DeploymentConfig[] };
}

/** 12 bytes of prompt: at most 12 + 7 framing tokens for a model without a known tokenizer. */
const request = (maxTokens?: number) => ({
  model: 'metered-model',
  messages: [{ role: 'user' as const, content: 'Hello there!' }],
  ...(maxTokens === undefined ? {} : { maxTokens }),
});
const PROMPT_BOUND_USD = (12 + 4 + 3) * 0.0001;

describe('TenantAdmission', () => {
  it('refuses revoked, disabled and expired keys, and keys of a disabled team', async () => {
    const gate = admission();
    await expect(gate.admit({ key: makeKey({ revokedAt: new Date() }), team: undefined }, request())).rejects.toMatchObject({
      status: 'revoked',
    });
    await expect(gate.admit({ key: makeKey({ enabled: false }), team: undefined }, request())).rejects.toMatchObject({
      status: 'disabled',
    });
    await expect(gate.admit({ key: makeKey({ expiresAt: new Date(Date.now() - 1) }), team: undefined }, request())).rejects.toBeInstanceOf(
      KeyRefusedError,
    );
    await expect(gate.admit({ key: makeKey(), team: makeTeam({ enabled: false }) }, request())).rejects.toMatchObject({
      status: 'team_disabled',
    });
  });

  it('checks the status alone, on its clock: a disabled key, an expired key and a disabled team are refused, an active key is not', () => {
    const clock = new ManualClock();
    const gate = admission({ clock });
    expect(() => gate.checkStatus({ key: makeKey({ enabled: false }), team: undefined })).toThrow(
      expect.objectContaining({ name: 'KeyRefusedError', status: 'disabled' }),
    );
    // Expiry is read on the admission's clock, not the machine's: active until that clock reaches it.
    const expiresAt = new Date(clock.now() + 60_000);
    expect(() => gate.checkStatus({ key: makeKey({ expiresAt }), team: undefined })).not.toThrow();
    clock.advance(60_000);
    expect(() => gate.checkStatus({ key: makeKey({ expiresAt }), team: undefined })).toThrow(
      expect.objectContaining({ status: 'expired' }),
    );
    expect(() => gate.checkStatus({ key: makeKey(), team: makeTeam({ enabled: false }) })).toThrow(
      expect.objectContaining({ status: 'team_disabled' }),
    );
    expect(() => gate.checkStatus({ key: makeKey(), team: makeTeam() })).not.toThrow();
  });

  it("refuses a model outside the key's or the team's list, naming it", async () => {
    const gate = admission();
    const refused = gate.admit({ key: makeKey({ allowedModels: ['other-model'] }), team: undefined }, request());
    await expect(refused).rejects.toBeInstanceOf(ModelNotAllowedError);
    await expect(refused).rejects.toThrow(/"metered-model"/);
    await expect(gate.admit({ key: makeKey(), team: makeTeam({ allowedModels: ['x'] }) }, request())).rejects.toThrow(
      /not allowed for this team/,
    );
    const allowed = await gate.admit({ key: makeKey({ allowedModels: ['metered-model'] }), team: undefined }, request());
    await allowed.settle(0, 0);
  });

  it('refuses a model without a price when a budget applies, since its cost cannot be bounded', async () => {
    const gate = admission();
    await expect(
      gate.admit({ key: makeKey({ dailyBudgetUsd: 1 }), team: undefined }, { ...request(), model: 'unpriced' }),
    ).rejects.toBeInstanceOf(ModelNotPricedError);
    const unbudgeted = await gate.admit({ key: makeKey(), team: undefined }, { ...request(), model: 'unpriced' });
    expect(unbudgeted.reservedUsd).toBe(0);
    await unbudgeted.settle(0, 0);
  });

  it('reserves the worst case, settles to the real cost, and refuses with insufficient_quota once spent', async () => {
    const gate = admission();
    const key = makeKey({ totalBudgetUsd: 0.2 });
    const first = await gate.admit({ key, team: undefined }, request(50));
    expect(first.maxTokens).toBe(50);
    expect(first.reservedUsd).toBeCloseTo(PROMPT_BOUND_USD + 0.05, 9);
    await first.settle(0.15, 60);
    const refused = gate.admit({ key, team: undefined }, request(50));
    await expect(refused).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(refused).rejects.toMatchObject({ code: 'insufficient_quota', limitUsd: 0.2, spentUsd: 0.15 });
  });

  it("bounds a call by its team's budget too", async () => {
    const gate = admission();
    const team = makeTeam({ dailyBudgetUsd: 0.05 });
    const call = await gate.admit({ key: makeKey(), team }, request(20));
    await call.settle(0.04, 10);
    await expect(gate.admit({ key: makeKey(), team }, request(20))).rejects.toMatchObject({
      code: 'insufficient_quota',
      budget: expect.stringMatching(/^team:/),
    });
  });

  it('shrinks the output allowance of a call without its own maximum to what the budget still affords', async () => {
    const gate = admission({ maxOutputTokens: 100, minOutputTokens: 10 });
    const key = makeKey({ totalBudgetUsd: 0.05 });
    const call = await gate.admit({ key, team: undefined }, request());
    expect(call.maxTokens).toBe(Math.floor((0.05 - PROMPT_BOUND_USD) / 0.001));
    await call.settle(0, 0);
    const explicit = gate.admit({ key, team: undefined }, request(100));
    await expect(explicit).rejects.toBeInstanceOf(BudgetExceededError);
  });

  it('reserves the worst case over the models a call may fall back to, unless it is pinned to its provider', async () => {
    const gate = admission({ fallbackModels: ['dear-fallback'] });
    const key = makeKey({ totalBudgetUsd: 1 });
    const call = await gate.admit({ key, team: undefined }, request(50));
    expect(call.reservedUsd).toBeCloseTo(PROMPT_BOUND_USD + 50 * 0.003, 9);
    await call.settle(0, 0);
    const pinned = await gate.admit({ key, team: undefined }, { ...request(50), noFallbacks: true });
    expect(pinned.reservedUsd).toBeCloseTo(PROMPT_BOUND_USD + 50 * 0.001, 9);
    await pinned.settle(0, 0);
    // Shrunk to what the dearest model affords: the fallback's price bounds the output allowance.
    const tight = makeKey({ totalBudgetUsd: 0.05 });
    const shrunk = await gate.admit({ key: tight, team: undefined }, request());
    expect(shrunk.maxTokens).toBe(Math.floor((0.05 - PROMPT_BOUND_USD) / 0.003));
    await shrunk.settle(0, 0);
    const unpriced = admission({ fallbackModels: ['unpriced-fallback'] });
    await expect(unpriced.admit({ key, team: undefined }, request(50))).rejects.toThrow(/"unpriced-fallback"/);
  });

  it('reserves a call for a model group at the worst case over the deployments it may reach, each at its own price', async () => {
    const groups = {
      'chat-solo': group('chat-solo', ['metered-model', 'dear-input']),
      'chat-fast': group('chat-fast', ['metered-model'], ['chat-safe']),
      'chat-safe': group('chat-safe', ['dear-fallback']),
      'chat-unpriced': group('chat-unpriced', ['metered-model', 'unpriced-deployment']),
    };
    // LLM_FALLBACKS do not apply to groups: an unpriced one would refuse every budgeted call if they did.
    const gate = admission({ groups, fallbackModels: ['unpriced-fallback'] });
    const key = makeKey({ totalBudgetUsd: 1, allowedModels: ['chat-solo', 'chat-fast', 'chat-unpriced'] });
    const solo = await gate.admit({ key, team: undefined }, { ...request(50), model: 'chat-solo' });
    // The dearer input of the second deployment, not the sum of the dearest input and output prices.
    expect(solo.reservedUsd).toBeCloseTo(PROMPT_BOUND_USD * 20 + 50 * 0.001, 9);
    await solo.settle(0, 0);
    const fast = await gate.admit({ key, team: undefined }, { ...request(50), model: 'chat-fast' });
    expect(fast.reservedUsd).toBeCloseTo(PROMPT_BOUND_USD + 50 * 0.003, 9);
    await fast.settle(0, 0);
    await expect(gate.admit({ key, team: undefined }, { ...request(50), model: 'chat-unpriced' })).rejects.toThrow(
      /"unpriced-deployment" has no price/,
    );
    // Without a budget nothing is priced, and an unpriced deployment does not refuse.
    const open = await gate.admit(
      { key: makeKey({ allowedModels: ['chat-unpriced'] }), team: undefined },
      { ...request(50), model: 'chat-unpriced' },
    );
    expect(open.reservedUsd).toBe(0);
    await open.settle(0, 0);
  });

  it("allows a call for a model group only when the group's own name is on the allow-list", async () => {
    const gate = admission({ groups: { 'chat-fast': group('chat-fast', ['metered-model']) } });
    const named = await gate.admit(
      { key: makeKey({ allowedModels: ['chat-fast'] }), team: undefined },
      { ...request(5), model: 'chat-fast' },
    );
    await named.settle(0, 0);
    // A deployment's model on the list does not admit the group, nor the group its deployments' models.
    await expect(
      gate.admit({ key: makeKey({ allowedModels: ['metered-model'] }), team: undefined }, { ...request(5), model: 'chat-fast' }),
    ).rejects.toBeInstanceOf(ModelNotAllowedError);
    await expect(gate.admit({ key: makeKey({ allowedModels: ['chat-fast'] }), team: undefined }, request(5))).rejects.toBeInstanceOf(
      ModelNotAllowedError,
    );
    await expect(
      gate.admit({ key: makeKey(), team: makeTeam({ allowedModels: ['gpt-4o'] }) }, { ...request(5), model: 'chat-fast' }),
    ).rejects.toThrow(/"chat-fast" is not allowed for this team/);
  });

  it('waits for calls in flight rather than refusing, and gives up after maxWaitMs with Retry-After', async () => {
    const gate = admission({ maxWaitMs: 2000 });
    const key = makeKey({ totalBudgetUsd: 0.1 });
    const first = await gate.admit({ key, team: undefined }, request(80));
    const second = gate.admit({ key, team: undefined }, request(80));
    setTimeout(() => void first.settle(0.001, 3), 100);
    const admitted = await second;
    expect(admitted.maxTokens).toBe(80);
    await admitted.settle(0.001, 3);
    const held = await gate.admit({ key, team: undefined }, request(80));
    const impatient = admission({ maxWaitMs: 50 });
    const refused = impatient.admit({ key, team: undefined }, request(80));
    await expect(refused).rejects.toBeInstanceOf(TenantLimitError);
    await expect(refused).rejects.toMatchObject({ code: 'rate_limit_exceeded', limit: 'budget', retryAfterMs: 1000 });
    await held.settle(0, 0);
  });

  it("names the team when the team's budget, held by calls in flight, is what refuses after waiting", async () => {
    const gate = admission({ maxWaitMs: 50 });
    const team = makeTeam({ totalBudgetUsd: 0.1 });
    // The key's own budget has room; the team's is held by another key's call in flight.
    const held = await gate.admit({ key: makeKey({ teamId: team.id }), team }, request(80));
    const refused = gate.admit({ key: makeKey({ teamId: team.id, totalBudgetUsd: 10 }), team }, request(80));
    await expect(refused).rejects.toMatchObject({ code: 'rate_limit_exceeded', limit: 'budget', scope: 'team' });
    await expect(refused).rejects.toThrow(/of this team/);
    await held.settle(0, 0);
  });

  it("names the team's budget to a call whose wait runs out in the line, before it has asked", async () => {
    const clock = new ManualClock();
    const gate = admission({ maxWaitMs: 50, clock });
    const team = makeTeam({ totalBudgetUsd: 0.1 });
    const held = await gate.admit({ key: makeKey({ teamId: team.id }), team }, request(80));
    const key = makeKey({ teamId: team.id, totalBudgetUsd: 10 });
    // The head asks, is refused by the team's budget and pauses; the next call of the key queues behind it.
    const head = gate.admit({ key, team }, request(80)).catch((error: unknown) => error);
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1));
    const queued = gate.admit({ key, team }, request(80)).catch((error: unknown) => error);
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(2));
    // The wait runs out while the head is still asking: the queued call never asked.
    clock.advance(50);
    expect(await queued).toMatchObject({ code: 'rate_limit_exceeded', limit: 'budget', scope: 'team' });
    expect(await head).toMatchObject({ code: 'rate_limit_exceeded', limit: 'budget', scope: 'team' });
    await held.settle(0, 0);
  });

  it('reserves for the JSON schema of the answer format, which the provider bills as prompt', async () => {
    const gate = admission();
    const key = makeKey({ dailyBudgetUsd: 10 });
    const properties = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field_${i}`, { type: 'string' }]));
    const responseFormat = { type: 'json_schema' as const, name: 'big', schema: { type: 'object', properties } };
    const plain = await gate.admit({ key, team: undefined }, request(10));
    const shaped = await gate.admit({ key, team: undefined }, { ...request(10), responseFormat });
    // 0.0001 USD per byte of the schema's JSON, on top of the same prompt and output.
    expect(shaped.reservedUsd - plain.reservedUsd).toBeCloseTo(Buffer.byteLength(JSON.stringify(responseFormat)) * 0.0001, 6);
    await Promise.all([plain.settle(0, 0), shaped.settle(0, 0)]);
  });

  it("holds a key's requests per minute and says when to retry", async () => {
    const gate = admission();
    const key = makeKey({ requestsPerMinute: 2 });
    await (await gate.admit({ key, team: undefined }, request())).settle(0, 0);
    await (await gate.admit({ key, team: undefined }, request())).settle(0, 0);
    const refused = gate.admit({ key, team: undefined }, request());
    await expect(refused).rejects.toMatchObject({ limit: 'requests', scope: 'key' });
    const error = (await refused.catch((caught: unknown) => caught)) as TenantLimitError;
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
  });

  it("takes an unpriced, unbudgeted embedding call's input bound from the key's tokens per minute", async () => {
    const gate = admission();
    const key = makeKey({ tokensPerMinute: 100 });
    // What an embeddings call asks for: no output, its inputs' token bound.
    const embedding = (inputTokens: number) => ({
      model: 'unpriced-embedder',
      messages: [],
      maxTokens: 0,
      inputTokens,
      fallbackModels: [],
    });
    const first = await gate.admit({ key, team: undefined }, embedding(60));
    // 60 of the 100 tokens are held by the call in flight: a second one of 60 waits for the minute.
    await expect(gate.admit({ key, team: undefined }, embedding(60))).rejects.toMatchObject({ limit: 'tokens', scope: 'key' });
    await first.settle(0, 60);
  });

  it("reports a key's per-minute buckets without taking from them, and nothing for a key without limits", async () => {
    const gate = admission();
    const key = makeKey({ requestsPerMinute: 3, tokensPerMinute: 10_000 });
    expect(await gate.rateLimitLevels('key', key.id, key)).toMatchObject({
      requests: { limit: 3, remaining: 3, resetMs: 0 },
      tokens: { limit: 10_000, remaining: 10_000 },
    });
    await (await gate.admit({ key, team: undefined }, request())).settle(0, 0);
    const after = await gate.rateLimitLevels('key', key.id, key);
    expect(after?.requests?.remaining).toBe(2);
    expect(after?.requests?.resetMs).toBeGreaterThan(0);
    // Reading took nothing: two more calls still fit this minute.
    await (await gate.admit({ key, team: undefined }, request())).settle(0, 0);
    await (await gate.admit({ key, team: undefined }, request())).settle(0, 0);
    expect(await gate.rateLimitLevels('key', 'key_open', makeKey())).toBeUndefined();
  });

  it("holds a key's calls in flight and frees a slot when a call settles", async () => {
    const gate = admission();
    const key = makeKey({ maxConcurrent: 2 });
    const calls = [await gate.admit({ key, team: undefined }, request()), await gate.admit({ key, team: undefined }, request())];
    await expect(gate.admit({ key, team: undefined }, request())).rejects.toMatchObject({ limit: 'concurrency' });
    await calls[0]?.settle(0, 0);
    const third = await gate.admit({ key, team: undefined }, request());
    await Promise.all([calls[1]?.settle(0, 0), third.settle(0, 0)]);
  });

  it('frees what a refused call took: a budget refusal leaves no slot held', async () => {
    const gate = admission();
    const key = makeKey({ maxConcurrent: 1, totalBudgetUsd: 0.001 });
    await expect(gate.admit({ key, team: undefined }, request(50))).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(gate.admit({ key, team: undefined }, request(50))).rejects.toBeInstanceOf(BudgetExceededError);
  });

  it('gives back the tokens per minute of a call refused for its budget or its calls in flight, which never ran', async () => {
    const gate = admission({ maxWaitMs: 0 });
    // Each call takes 19 + 100 tokens of the minute; six refused ones would spend 714 of 500.
    const spent = makeKey({ tokensPerMinute: 500, dailyBudgetUsd: 0.00001 });
    for (let call = 0; call < 6; call++) {
      await expect(gate.admit({ key: spent, team: undefined }, request())).rejects.toBeInstanceOf(BudgetExceededError);
    }
    const busy = makeKey({ tokensPerMinute: 250, maxConcurrent: 1 });
    const held = await gate.admit({ key: busy, team: undefined }, request());
    for (let call = 0; call < 2; call++) {
      await expect(gate.admit({ key: busy, team: undefined }, request())).rejects.toMatchObject({ limit: 'concurrency' });
    }
    await held.settle(0, 119);
    // 131 of the minute's 250 tokens are left for the next call, as the refused ones took none.
    await (await gate.admit({ key: busy, team: undefined }, request())).settle(0, 0);
  });

  it("gives back its key's tokens per minute when its team's rate refuses the call", async () => {
    const gate = admission();
    const team = makeTeam({ requestsPerMinute: 1 });
    // Each call takes 119 tokens of the key's minute: a refusal that kept them would leave 12, too few for the next.
    const key = makeKey({ tokensPerMinute: 250, teamId: team.id });
    await (await gate.admit({ key, team }, request())).settle(0, 119);
    await expect(gate.admit({ key, team }, request())).rejects.toMatchObject({ limit: 'requests' });
    await (await gate.admit({ key, team: undefined }, request())).settle(0, 0);
  });

  it('holds a $1.00 budget exactly across four replicas under 400 concurrent calls, and uses ≥ 95% of it before refusing', async () => {
    const replicas = Array.from({ length: 4 }, () => admission({ maxWaitMs: 20_000, maxOutputTokens: 20, minOutputTokens: 1 }));
    const key = makeKey({ totalBudgetUsd: 1 });
    let settledUsd = 0;
    let spentAtFirstRefusal: number | undefined;
    const call = async (index: number) => {
      const gate = replicas[index % 4] as TenantAdmission;
      let admitted: Admission;
      try {
        admitted = await gate.admit({ key, team: undefined }, request());
      } catch (error) {
        spentAtFirstRefusal ??= settledUsd;
        if (!(error instanceof BudgetExceededError)) throw error;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      // Answers vary in length, up to the granted maximum; the prompt is about a quarter of its byte bound.
      const outputTokens = 1 + Math.floor(Math.random() * admitted.maxTokens);
      const costUsd = 5 * 0.0001 + outputTokens * 0.001;
      settledUsd += costUsd;
      await admitted.settle(costUsd, 5 + outputTokens);
    };
    await Promise.all(Array.from({ length: 400 }, (_, index) => call(index)));
    expect(settledUsd).toBeLessThanOrEqual(1);
    expect(spentAtFirstRefusal).toBeDefined();
    expect(spentAtFirstRefusal as number).toBeGreaterThanOrEqual(0.95);
  }, 60_000);
});

describe('callerModels', () => {
  it('is the models both the key and its team allow, or undefined when neither restricts them', () => {
    expect(callerModels({ key: makeKey(), team: undefined })).toBeUndefined();
    expect(callerModels({ key: makeKey({ allowedModels: ['*'] }), team: makeTeam() })).toBeUndefined();
    expect(callerModels({ key: makeKey({ allowedModels: ['a', 'b'] }), team: makeTeam() })).toEqual(['a', 'b']);
    expect(callerModels({ key: makeKey(), team: makeTeam({ allowedModels: ['b'] }) })).toEqual(['b']);
    expect(callerModels({ key: makeKey({ allowedModels: ['a', 'b'] }), team: makeTeam({ allowedModels: ['b', 'c'] }) })).toEqual(['b']);
    expect(callerModels({ key: makeKey({ allowedModels: ['a'] }), team: makeTeam({ allowedModels: ['c'] }) })).toEqual([]);
  });
});
