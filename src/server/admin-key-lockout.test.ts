import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { Secret } from '../config/secret.js';
import { ADMIN_KEY, type DashboardStack, startDashboardStack } from '../dashboard/dashboard-stack.test-helpers.js';
import { sqliteTarget, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { ADMIN_KEY_FAILURES_PER_MINUTE, ADMIN_KEY_LOCKOUT_CLIENTS, AdminKeyLockout } from './admin-key-lockout.js';
import { startTestServer, type TestServer } from './test-server.test-helpers.js';

let opened: TenantDatabase;
let service: TestServer | undefined;
let stack: DashboardStack | undefined;

beforeAll(async () => {
  opened = await sqliteTarget.open();
});

afterEach(async () => {
  vi.useRealTimers();
  await service?.close();
  await stack?.close();
  service = undefined;
  stack = undefined;
});

afterAll(async () => {
  await opened?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

it('answers 429 with Retry-After to every bearer key on the admin API once ten wrong ones failed within a minute', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-01T10:00:00Z'));
  const adminKey = 'gw-admin-lockout-1f6b0c93d4e2a8';
  service = await startTestServer({
    admin: {
      repository: new TenantRepository(opened.database.db),
      adminKey: new Secret('GROUNDWORK_ADMIN_KEY', adminKey),
      invalidate: () => {},
      usage: async () => [],
    },
  });
  for (let attempt = 0; attempt < ADMIN_KEY_FAILURES_PER_MINUTE; attempt++) {
    expect((await fetch(`${service.url}/admin/keys`, { headers: bearer(`guess-${attempt}`) })).status).toBe(401);
  }
  const locked = await fetch(`${service.url}/admin/keys`, { headers: bearer('guess-next') });
  expect(locked.status).toBe(429);
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await locked.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'too_many_logins' } });
  // The right key too: otherwise a guesser would still learn at full speed which guess was right.
  expect((await fetch(`${service.url}/admin/teams`, { headers: bearer(adminKey) })).status).toBe(429);
  expect(service.logText()).not.toContain('guess-next');
  vi.setSystemTime(new Date('2026-12-01T10:01:00Z'));
  expect((await fetch(`${service.url}/admin/keys`, { headers: bearer(adminKey) })).status).toBe(200);
});

it('counts wrong bearer keys on the dashboard API, the admin API and the login form in one minute', async () => {
  stack = await startDashboardStack();
  for (let attempt = 0; attempt < ADMIN_KEY_FAILURES_PER_MINUTE - 1; attempt++) {
    expect((await fetch(`${stack.url}/admin/api/overview`, { headers: bearer(`guess-${attempt}`) })).status).toBe(401);
  }
  expect((await fetch(`${stack.url}/admin/keys`, { headers: bearer('guess-admin') })).status).toBe(401);
  const dashboard = await fetch(`${stack.url}/admin/api/overview`, { headers: bearer('guess-next') });
  expect(dashboard.status).toBe(429);
  expect(dashboard.headers.get('retry-after')).not.toBeNull();
  expect((await fetch(`${stack.url}/admin/keys`, { headers: bearer(ADMIN_KEY) })).status).toBe(429);
  const login = await fetch(`${stack.url}/ui/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key: ADMIN_KEY }).toString(),
    redirect: 'manual',
  });
  expect(login.status).toBe(429);
});

/** The status of GET `url` with `headers`, sent from the local address `from` (any 127.x.y.z reaches loopback on Linux). */
function statusFrom(from: string, url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(url, { headers, localAddress: from }, (answer) => {
      answer.resume();
      resolve(answer.statusCode ?? 0);
    });
    sent.on('error', reject);
    sent.end();
  });
}

it('leaves the admin key working from other addresses while one address is locked out', async () => {
  stack = await startDashboardStack();
  const url = `${stack.url}/admin/keys`;
  for (let attempt = 0; attempt < ADMIN_KEY_FAILURES_PER_MINUTE; attempt++) {
    expect(await statusFrom('127.0.0.2', url, bearer(`guess-${attempt}`))).toBe(401);
  }
  expect(await statusFrom('127.0.0.2', url, bearer(ADMIN_KEY))).toBe(429);
  // A stranger's wrong keys do not lock out the admin elsewhere, on the admin API or the dashboard's.
  expect(await statusFrom('127.0.0.1', url, bearer(ADMIN_KEY))).toBe(200);
  expect(await statusFrom('127.0.0.1', `${stack.url}/admin/api/overview`, bearer(ADMIN_KEY))).toBe(200);
  expect(await statusFrom('127.0.0.1', url, bearer('guess-own'))).toBe(401);
});

it('keeps at most its table of addresses, counting further new addresses together until a minute frees room', () => {
  let now = 0;
  const lockout = new AdminKeyLockout(() => now);
  const key = new Secret('GROUNDWORK_ADMIN_KEY', 'gw-admin-lockout-table-7c1d2e');
  for (let client = 0; client < ADMIN_KEY_LOCKOUT_CLIENTS; client++) expect(lockout.check('guess', key, `10.0.${client}`)).toBe(false);
  for (let attempt = 0; attempt < ADMIN_KEY_FAILURES_PER_MINUTE; attempt++) {
    expect(lockout.check('guess', key, `10.1.${attempt}`)).toBe(false);
  }
  expect(() => lockout.check(key.reveal(), key, '10.2.0')).toThrow(/Too many failed logins/);
  // An address already counted keeps its own count.
  expect(lockout.check(key.reveal(), key, '10.0.0')).toBe(true);
  now = 60_000;
  expect(lockout.check(key.reveal(), key, '10.2.0')).toBe(true);
});
