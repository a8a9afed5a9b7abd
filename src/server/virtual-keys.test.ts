import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceBook } from '../llm/pricing.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import { DatabaseBudgetStore } from '../tenants/database-budget-store.js';
import { KeyDirectory } from '../tenants/key-directory.js';
import { TenantAdmission } from '../tenants/tenant-admission.js';
import { sqliteTarget, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

/** $0.1 per thousand input tokens and $1 per thousand output tokens. */
const prices = new PriceBook({ 'metered-model': { input: 100, output: 1000 } });

let opened: TenantDatabase;
let repository: TenantRepository;
let service: TestServer;

beforeAll(async () => {
  opened = await sqliteTarget.open();
  repository = new TenantRepository(opened.database.db);
  const directory = new KeyDirectory(repository, { ttlMs: 0 });
  const admission = new TenantAdmission({
    budgets: new DatabaseBudgetStore(opened.database.db),
    rateLimits: (rules) => new MemoryRateLimitStore(rules, { reportLevels: true }),
    prices,
    maxOutputTokens: 50,
    minOutputTokens: 50,
    maxWaitMs: 100,
  });
  service = await startTestServer({ tenants: { resolve: (key) => directory.resolve(key), admission, prices } });
});

afterAll(async () => {
  await service?.close();
  await opened?.close();
});

function clientFor(apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${service.url}/v1`, maxRetries: 0, timeout: 10_000 });
}

async function post(
  apiKey: string,
  body: Record<string, unknown>,
  header: 'authorization' | 'api-key' = 'authorization',
): Promise<Response> {
  return fetch(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(header === 'authorization' ? { authorization: `Bearer ${apiKey}` } : { 'api-key': apiKey }),
    },
    body: JSON.stringify({ model: 'metered-model', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

describe('groundwork serve with virtual keys', () => {
  it('accepts a database key by Bearer or api-key header, bounds the call and bills it to the key', async () => {
    const team = await repository.createTeam({ name: 'accepting-team' });
    const { key, plainKey } = await repository.createKey({ name: 'accepting', team: team.name });
    const answer = await clientFor(plainKey.reveal()).chat.completions.create({
      model: 'metered-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    const call = service.backend.calls.at(-1);
    expect(call?.request.maxTokens).toBe(50);
    expect(call?.attribution).toEqual({ keyId: key.id, teamId: team.id });
    // Its cache entries are its team's (SERVER_CACHE_SCOPE's default).
    expect(call?.cacheScope).toBe(`team:${team.id}`);
    expect((await post(plainKey.reveal(), {}, 'api-key')).status).toBe(200);
    const lone = await repository.createKey({ name: 'accepting-alone' });
    expect((await post(lone.plainKey.reveal(), { stream: true })).status).toBe(200);
    expect(service.backend.calls.at(-1)).toMatchObject({ kind: 'stream', cacheScope: `key:${lone.key.id}` });
  });

  it('keeps accepting static keys, and refuses unknown and missing keys', async () => {
    expect((await post(TEST_API_KEY, {})).status).toBe(200);
    expect(service.backend.calls.at(-1)?.attribution).toBeUndefined();
    expect(service.backend.calls.at(-1)?.cacheScope).toBeUndefined();
    const unknown = await post('gw-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', {});
    expect(unknown.status).toBe(401);
    const missing = await fetch(`${service.url}/v1/models`);
    expect(missing.status).toBe(401);
  });

  it('refuses revoked, disabled and expired keys at once', async () => {
    const revoked = await repository.createKey({ name: 'to-revoke' });
    expect((await post(revoked.plainKey.reveal(), {})).status).toBe(200);
    await repository.revokeKey('to-revoke');
    const answer = await post(revoked.plainKey.reveal(), {});
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { message: string } }).error.message).toContain('revoked');
    const disabled = await repository.createKey({ name: 'disabled', enabled: false });
    expect((await post(disabled.plainKey.reveal(), {})).status).toBe(401);
    const expired = await repository.createKey({ name: 'expired', expiresAt: new Date(Date.now() - 1000) });
    expect((await post(expired.plainKey.reveal(), {})).status).toBe(401);
  });

  it('answers 403 naming a model the key may not use', async () => {
    const { plainKey } = await repository.createKey({ name: 'narrow', allowedModels: ['other-model'] });
    const answer = await post(plainKey.reveal(), {});
    expect(answer.status).toBe(403);
    const body = (await answer.json()) as { error: { message: string; code: string; param: string } };
    expect(body.error).toMatchObject({ code: 'model_not_allowed', param: 'model' });
    expect(body.error.message).toContain('"metered-model"');
  });

  it("answers 429 insufficient_quota once the key's budget is spent, without asking SDKs to retry", async () => {
    // The default answer costs 11 × $0.0001 + 7 × $0.001 = $0.0081; a call's worst case is 9 × $0.0001 + 50 × $0.001 = $0.0509.
    const { plainKey } = await repository.createKey({ name: 'frugal', totalBudgetUsd: 0.055 });
    expect((await post(plainKey.reveal(), {})).status).toBe(200);
    const refused = await post(plainKey.reveal(), {});
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    expect(((await refused.json()) as { error: { code: string; type: string } }).error).toMatchObject({
      code: 'insufficient_quota',
      type: 'insufficient_quota',
    });
  });

  it('answers 429 with Retry-After when the key is over its requests per minute', async () => {
    const { plainKey } = await repository.createKey({ name: 'slow', requestsPerMinute: 1 });
    expect((await post(plainKey.reveal(), {})).status).toBe(200);
    const refused = await post(plainKey.reveal(), {});
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(30);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
  });

  it("answers the key's own x-ratelimit-* headers in OpenAI's format, on JSON, streams and 429s", async () => {
    const { plainKey } = await repository.createKey({ name: 'headed', requestsPerMinute: 3, tokensPerMinute: 100_000 });
    const first = await post(plainKey.reveal(), { max_tokens: 10 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-reset-requests')).toMatch(/^(19\.\d+|20)s$/);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    expect(Number(first.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100_000);
    expect(first.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+(ms|(\.\d+)?s)$/);
    const streamed = await post(plainKey.reveal(), { max_tokens: 10, stream: true });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    await streamed.text();
    expect((await post(plainKey.reveal(), { max_tokens: 10 })).headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const refused = await post(plainKey.reveal(), { max_tokens: 10 });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // A key without limits gets none of its own.
    const { plainKey: open } = await repository.createKey({ name: 'unlimited' });
    expect((await post(open.reveal(), {})).headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it('settles a stream to its real cost', async () => {
    const { key, plainKey } = await repository.createKey({ name: 'streamer', totalBudgetUsd: 1 });
    const stream = await clientFor(plainKey.reveal()).chat.completions.create({
      model: 'metered-model',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const _chunk of stream) {
      // drain
    }
    const [state] = await new DatabaseBudgetStore(opened.database.db).read([`key:${key.id}:total`], Date.now());
    expect(state).toEqual({ counter: `key:${key.id}:total`, spentNano: 8_100_000, reservedNano: 0 });
  });

  it('never lets a plain key reach the log, the metrics, an error answer or the database', async () => {
    const { plainKey } = await repository.createKey({ name: 'canary', allowedModels: ['nothing'] });
    const canary = plainKey.reveal();
    const refused = await post(canary, {});
    expect(await refused.text()).not.toContain(canary);
    const unknown = await post(`${canary.slice(0, -1)}x`, {});
    expect(await unknown.text()).not.toContain(canary.slice(0, -1));
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).not.toContain(canary);
    expect(service.logText()).not.toMatch(/gw-[A-Za-z0-9_-]{43}/);
    for (const table of ['groundwork_keys', 'groundwork_admin_audit', 'llm_usage', 'groundwork_budget_counters'] as const) {
      const rows = await opened.database.db.selectFrom(table).selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(canary.slice(3));
    }
  });
});
