import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { Secret } from '../config/secret.js';
import { ADMIN_KEY, type DashboardStack, startDashboardStack } from '../dashboard/dashboard-stack.test-helpers.js';
import { sqliteTarget, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { ADMIN_KEY_FAILURES_PER_MINUTE } from './admin-key-lockout.js';
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
