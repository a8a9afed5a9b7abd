import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { PriceBook } from '../llm/pricing.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import { readAudit } from '../tenants/admin-audit.js';
import { DatabaseBudgetStore } from '../tenants/database-budget-store.js';
import { KeyDirectory } from '../tenants/key-directory.js';
import { TenantAdmission } from '../tenants/tenant-admission.js';
import { sqliteTarget, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { usageReport } from '../tenants/usage-report.js';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

const ADMIN_KEY = 'gw-admin-canary-7d2f9a1c3e5b';

let opened: TenantDatabase;
let service: TestServer;

beforeAll(async () => {
  opened = await sqliteTarget.open();
  const repository = new TenantRepository(opened.database.db);
  // A long TTL: only the admin API's invalidation can make a change visible at once.
  const directory = new KeyDirectory(repository, { ttlMs: 60_000 });
  const prices = new PriceBook();
  const admission = new TenantAdmission({
    budgets: new DatabaseBudgetStore(opened.database.db),
    rateLimits: (rules) => new MemoryRateLimitStore(rules),
    prices,
  });
  service = await startTestServer({
    tenants: { resolve: (key) => directory.resolve(key), admission, prices },
    admin: {
      repository,
      adminKey: new Secret('GROUNDWORK_ADMIN_KEY', ADMIN_KEY),
      invalidate: () => directory.invalidate(),
      usage: (options) => usageReport(opened.database.db, options),
    },
  });
});

afterAll(async () => {
  await service?.close();
  await opened?.close();
});

async function admin(
  method: string,
  path: string,
  body?: unknown,
  key = ADMIN_KEY,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function chat(key: string): Promise<number> {
  const response = await fetch(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  return response.status;
}

describe('the admin API', () => {
  it('accepts only the admin key: caller keys, static or virtual, are refused', async () => {
    expect((await admin('GET', '/admin/keys', undefined, TEST_API_KEY)).status).toBe(401);
    const created = await admin('POST', '/admin/keys', { name: 'caller' });
    expect((await admin('GET', '/admin/keys', undefined, String(created.json['plainKey']))).status).toBe(401);
    expect((await fetch(`${service.url}/admin/teams`)).status).toBe(401);
  });

  it('creates a key whose plain value is shown once and works at once, and revokes it on every request after', async () => {
    const created = await admin('POST', '/admin/keys', {
      name: 'svc-a',
      dailyBudgetUsd: 5,
      allowedModels: ['gpt-4o-mini'],
      expiresAt: '2099-01-01T00:00:00Z',
    });
    expect(created.status).toBe(201);
    const plain = String(created.json['plainKey']);
    expect(plain).toMatch(/^gw-/);
    expect(created.json['key']).toMatchObject({ name: 'svc-a', dailyBudgetUsd: 5, expiresAt: '2099-01-01T00:00:00.000Z' });
    expect(JSON.stringify((await admin('GET', '/admin/keys/svc-a')).json)).not.toContain(plain);
    expect(await chat(plain)).toBe(200);
    expect((await admin('DELETE', '/admin/keys/svc-a')).status).toBe(200);
    expect(await chat(plain)).toBe(401);
  });

  it('updates and rotates keys, and audits each change as the admin API', async () => {
    const created = await admin('POST', '/admin/keys', { name: 'svc-b' });
    const id = (created.json['key'] as { id: string }).id;
    const updated = await admin('PATCH', `/admin/keys/${id}`, { requestsPerMinute: 30, enabled: false });
    expect(updated.json).toMatchObject({ requestsPerMinute: 30, enabled: false });
    await admin('PATCH', '/admin/keys/svc-b', { enabled: true });
    const rotated = await admin('POST', '/admin/keys/svc-b/rotate');
    expect(rotated.status).toBe(200);
    expect(await chat(String(created.json['plainKey']))).toBe(401);
    expect(await chat(String(rotated.json['plainKey']))).toBe(200);
    const audit = await readAudit(opened.database.db, { targetId: id });
    expect(audit.map((entry) => [entry.actor, entry.action])).toEqual([
      ['admin-api', 'key.rotate'],
      ['admin-api', 'key.update'],
      ['admin-api', 'key.update'],
      ['admin-api', 'key.create'],
    ]);
  });

  it('manages teams, and answers 404, 409 and 400 for the ordinary mistakes', async () => {
    expect((await admin('POST', '/admin/teams', { name: 'growth', monthlyBudgetUsd: 50 })).status).toBe(201);
    expect((await admin('POST', '/admin/teams', { name: 'growth' })).status).toBe(409);
    expect((await admin('POST', '/admin/keys', { name: 'member', team: 'growth' })).status).toBe(201);
    expect((await admin('GET', '/admin/teams/growth')).json).toMatchObject({ name: 'growth', monthlyBudgetUsd: 50 });
    expect((await admin('DELETE', '/admin/teams/growth')).status).toBe(409);
    expect((await admin('GET', '/admin/teams/nobody')).status).toBe(404);
    const invalid = await admin('POST', '/admin/keys', { name: 'bad', dailyBudgetUsd: -3 });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.json)).toContain('dailyBudgetUsd');
    expect((await admin('PUT', '/admin/teams')).status).toBe(405);
  });

  describe('team writes, when the request is wrong', () => {
    async function raw(
      method: string,
      path: string,
      body: string,
      key = ADMIN_KEY,
    ): Promise<{ status: number; json: Record<string, unknown> }> {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    }
    const error = (answer: { json: Record<string, unknown> }) => answer.json['error'] as { code: string; message: string };
    const teamNamed = async (name: string) => (await admin('GET', `/admin/teams/${name}`)).status;

    it('refuses a body that is not a JSON object, creating nothing', async () => {
      for (const body of ['[{"name":"arr"}]', '"str"', 'null', '{"name": "broken"']) {
        const refused = await raw('POST', '/admin/teams', body);
        expect(refused.status).toBe(400);
        expect(error(refused).message).not.toBe('');
      }
      expect(await teamNamed('arr')).toBe(404);
      expect(await teamNamed('broken')).toBe(404);
    });

    it('refuses a team without a name, or with a setting of the wrong type, naming the field', async () => {
      const nameless = await admin('POST', '/admin/teams', { monthlyBudgetUsd: 5 });
      expect(nameless.status).toBe(400);
      expect(error(nameless).message).toContain('name');
      const wrongType = await admin('POST', '/admin/teams', { name: 'typed', requestsPerMinute: 'lots' });
      expect(wrongType.status).toBe(400);
      expect(error(wrongType).message).toContain('requestsPerMinute');
      expect(await teamNamed('typed')).toBe(404);
    });

    it('refuses fields it does not know rather than dropping them, naming them', async () => {
      const created = await admin('POST', '/admin/teams', { name: 'typo', monthlyBudget: 50 });
      expect(created.status).toBe(400);
      expect(error(created).message).toContain('monthlyBudget');
      expect(await teamNamed('typo')).toBe(404);
      expect((await admin('POST', '/admin/teams', { name: 'typo2' })).status).toBe(201);
      const patched = await admin('PATCH', '/admin/teams/typo2', { dailyBudget: 1, team: 'other' });
      expect(patched.status).toBe(400);
      expect(error(patched).message).toMatch(/dailyBudget.*team|team.*dailyBudget/);
      expect((await admin('GET', '/admin/teams/typo2')).json).toMatchObject({ dailyBudgetUsd: null });
    });

    it('answers 404 for a team that does not exist, on update and delete', async () => {
      const patched = await admin('PATCH', '/admin/teams/nobody-here', { enabled: false });
      expect(patched.status).toBe(404);
      expect(error(patched).code).toBe('tenant_not_found');
      expect((await admin('DELETE', '/admin/teams/nobody-here')).status).toBe(404);
    });

    it('answers 409 when a rename takes a name in use, and changes nothing', async () => {
      expect((await admin('POST', '/admin/teams', { name: 'alpha', dailyBudgetUsd: 1 })).status).toBe(201);
      expect((await admin('POST', '/admin/teams', { name: 'beta' })).status).toBe(201);
      const renamed = await admin('PATCH', '/admin/teams/beta', { name: 'alpha', dailyBudgetUsd: 9 });
      expect(renamed.status).toBe(409);
      expect(error(renamed).code).toBe('tenant_conflict');
      expect((await admin('GET', '/admin/teams/alpha')).json).toMatchObject({ dailyBudgetUsd: 1 });
      expect((await admin('GET', '/admin/teams/beta')).json).toMatchObject({ dailyBudgetUsd: null });
    });

    it('answers 400 for an invalid setting on update, and changes nothing', async () => {
      expect((await admin('POST', '/admin/teams', { name: 'gamma', requestsPerMinute: 10 })).status).toBe(201);
      const refused = await admin('PATCH', '/admin/teams/gamma', { requestsPerMinute: -1, enabled: false });
      expect(refused.status).toBe(400);
      expect(error(refused).message).toContain('requestsPerMinute');
      expect((await admin('GET', '/admin/teams/gamma')).json).toMatchObject({ requestsPerMinute: 10, enabled: true });
    });

    it('refuses every write without the admin key, before reading the body, and changes nothing', async () => {
      expect((await admin('POST', '/admin/teams', { name: 'sneaky' }, 'wrong-key')).status).toBe(401);
      expect((await admin('POST', '/admin/teams', { name: 'sneaky' }, TEST_API_KEY)).status).toBe(401);
      expect(await teamNamed('sneaky')).toBe(404);
      expect((await admin('POST', '/admin/teams', { name: 'kept' })).status).toBe(201);
      const unsigned = await fetch(`${service.url}/admin/teams/kept`, { method: 'DELETE' });
      expect(unsigned.status).toBe(401);
      expect((await admin('PATCH', '/admin/teams/kept', { enabled: false }, 'wrong-key')).status).toBe(401);
      expect((await admin('GET', '/admin/teams/kept')).json).toMatchObject({ name: 'kept', enabled: true });
      expect(service.logText()).not.toContain('wrong-key');
    });

    it('refuses a key field it does not know, and an expiry that is not a date', async () => {
      const typo = await admin('POST', '/admin/keys', { name: 'key-typo', dailyBudget: 5 });
      expect(typo.status).toBe(400);
      expect(error(typo).message).toContain('dailyBudget');
      const undated = await admin('POST', '/admin/keys', { name: 'key-undated', expiresAt: 'next tuesday' });
      expect(undated.status).toBe(400);
      expect(error(undated).message).toContain('expiresAt');
      expect((await admin('GET', '/admin/keys/key-typo')).status).toBe(404);
      expect((await admin('GET', '/admin/keys/key-undated')).status).toBe(404);
    });

    it('names at most five unknown fields, and how many more, when a fetched key is sent back', async () => {
      const fetched = {
        name: 'echoed',
        id: 'k1',
        teamId: null,
        prefix: 'gw-abc',
        createdAt: 'x',
        revokedAt: null,
        lastUsedAt: null,
        spend: 1,
      };
      const refused = await admin('POST', '/admin/keys', fetched);
      expect(refused.status).toBe(400);
      expect(error(refused).code).toBe('tenant_invalid');
      expect(error(refused).message).toMatch(
        /^id, teamId, prefix, createdAt, revokedAt and 2 more: not fields of a key; the fields are name, /,
      );
      expect(error(refused).message).not.toContain('lastUsedAt');
      expect((await admin('GET', '/admin/keys/echoed')).status).toBe(404);
    });

    it('answers 405 for a method a team path does not have', async () => {
      expect((await admin('PUT', '/admin/teams/kept', { name: 'kept' })).status).toBe(405);
    });
  });

  describe('paths and methods it does not have', () => {
    const request = async (method: string, path: string) => {
      const response = await fetch(`${service.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return { status: response.status, allow: response.headers.get('allow'), json: (await response.json()) as Record<string, unknown> };
    };

    it('answers 404 for a path under /admin/keys or /admin/teams that names nothing, in the error shape of the others', async () => {
      const plainKey = `gw-${'Q'.repeat(43)}`;
      for (const path of [
        '/admin/teams/kept/rotate',
        '/admin/keys/svc/frobnicate',
        `/admin/keys/svc/${plainKey}`,
        '/admin/keys/svc/rotate/again',
        '/admin/teams//rebuild-budgets',
        '/admin/keys/svc/rebuild-budgets',
      ]) {
        const answer = await request('POST', path);
        expect([path, answer.status]).toEqual([path, 404]);
        expect(answer.json).toEqual({
          error: {
            message: expect.stringMatching(/^No such admin path: the paths here are \/admin\//),
            type: 'not_found_error',
            param: null,
            code: 'not_found',
          },
        });
        expect(JSON.stringify(answer.json)).not.toContain(plainKey);
      }
      expect((await request('GET', '/admin/teams/kept/rotate')).status).toBe(404);
    });

    it('answers 404 for an action it does not have whatever the method, listing only the paths it offers', async () => {
      for (const method of ['PUT', 'GET', 'POST']) {
        const answer = await request(method, '/admin/keys/svc/frobnicate');
        expect([method, answer.status, answer.allow]).toEqual([method, 404, null]);
        expect((answer.json['error'] as { message: string }).message).toBe(
          'No such admin path: the paths here are /admin/keys, /admin/keys/{key} and /admin/keys/{key}/rotate.',
        );
      }
      expect(((await request('PUT', '/admin/teams/kept/x')).json['error'] as { message: string }).message).toBe(
        'No such admin path: the paths here are /admin/teams and /admin/teams/{team}.',
      );
    });

    it('answers 401 without the admin key, before saying which paths or methods there are', async () => {
      for (const [method, path] of [
        ['PUT', '/admin/keys'],
        ['GET', '/admin/keys/x/frobnicate'],
        ['POST', '/admin/usage'],
      ] as const) {
        for (const headers of [{}, { authorization: 'Bearer wrong-key' }]) {
          const response = await fetch(`${service.url}${path}`, { method, headers });
          const text = await response.text();
          expect([method, path, response.status, response.headers.get('allow')]).toEqual([method, path, 401, null]);
          expect(text).not.toContain('/admin/keys');
          expect(text).not.toContain('frobnicate');
        }
      }
    });

    it('answers a path no route matches without echoing the path, which may hold a key typed into it', async () => {
      const plainKey = `gw-${'Q'.repeat(43)}`;
      const answer = await request('GET', `/v1/${plainKey}`);
      expect(answer.status).toBe(404);
      expect(answer.json['error']).toMatchObject({ type: 'not_found_error', code: 'not_found' });
      expect((answer.json['error'] as { message: string }).message).toBe("No route matches this GET request's path.");
      expect(JSON.stringify(answer.json)).not.toContain(plainKey);
    });

    it('answers 405 with Allow only for a path it has, naming the methods that path accepts', async () => {
      for (const [method, path, allow] of [
        ['GET', '/admin/keys/svc/rotate', 'POST'],
        ['PUT', '/admin/keys/svc/rotate', 'POST'],
        ['PUT', '/admin/keys/svc', 'GET, HEAD, PATCH, DELETE'],
        ['PUT', '/admin/teams', 'GET, HEAD, POST'],
        ['POST', '/admin/keys/svc', 'GET, HEAD, PATCH, DELETE'],
        ['DELETE', '/admin/teams', 'GET, HEAD, POST'],
        ['POST', '/admin/usage', 'GET, HEAD'],
      ] as const) {
        const answer = await request(method, path);
        expect([path, answer.status, answer.allow]).toEqual([path, 405, allow]);
        expect(answer.json['error']).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed', param: null });
      }
    });
  });

  it('serves the usage figures, and refuses a grouping it does not know', async () => {
    const usage = await admin('GET', '/admin/usage?by=model&since=24h');
    expect(usage.status).toBe(200);
    expect(usage.json).toMatchObject({ by: 'model', data: [] });
    expect((await admin('GET', '/admin/usage?by=colour')).status).toBe(400);
    expect((await admin('GET', '/admin/usage', undefined, TEST_API_KEY)).status).toBe(401);
  });

  it('refuses a since it cannot read or that reaches before any date, naming since', async () => {
    for (const since of ['99999999999w', 'a week']) {
      const refused = await admin('GET', `/admin/usage?since=${encodeURIComponent(since)}`);
      expect(refused.status, since).toBe(400);
      const error = refused.json['error'] as { code: string; message: string };
      expect(error.message, since).toMatch(new RegExp(`^since: "${since}" is (not a duration|longer than 100 years)`));
      expect(error.message).not.toContain('--since');
    }
  });

  it('never logs the admin key or a plain key', () => {
    expect(service.logText()).not.toContain(ADMIN_KEY);
    expect(service.logText()).not.toMatch(/gw-[A-Za-z0-9_-]{43}/);
  });
});
