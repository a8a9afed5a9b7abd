import { afterEach, expect, it } from 'vitest';
import { type DashboardStack, startDashboardStack } from './dashboard-stack.test-helpers.js';

let stack: DashboardStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const page = 'https://my-chat-page.example';

// Callers need virtual keys, so only the dashboard is open: no admin key, on loopback.
it('an open dashboard gives a page of an allowed CORS origin neither CORS headers nor its data', async () => {
  stack = await startDashboardStack({ GROUNDWORK_ADMIN_KEY: '', SERVER_CORS_ORIGINS: page });
  const call = await fetch(`${stack.url}/admin/api/calls/1`, { headers: { origin: page } });
  expect(call.status).toBe(403);
  expect(call.headers.get('access-control-allow-origin')).toBeNull();
  expect(await call.json()).toMatchObject({ error: { type: 'permission_error', code: 'origin_refused' } });
  const preflight = await fetch(`${stack.url}/admin/api/overview`, {
    method: 'OPTIONS',
    headers: { origin: page, 'access-control-request-method': 'GET' },
  });
  expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  const models = await fetch(`${stack.url}/v1/models`, { headers: { origin: page } });
  expect(models.headers.get('access-control-allow-origin')).toBe(page);
  const apiPreflight = await fetch(`${stack.url}/v1/models`, {
    method: 'OPTIONS',
    headers: { origin: page, 'access-control-request-method': 'GET' },
  });
  expect(apiPreflight.status).toBe(204);
  expect(apiPreflight.headers.get('access-control-allow-origin')).toBe(page);
});

it('with every origin allowed, another page still gets no anti-CSRF token, while the dashboard’s own page and scripts do', async () => {
  stack = await startDashboardStack({ GROUNDWORK_ADMIN_KEY: '', SERVER_CORS_ORIGINS: '*' });
  const foreign = await fetch(`${stack.url}/admin/api/session`, { headers: { origin: page } });
  expect(foreign.status).toBe(403);
  expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  expect(await foreign.text()).not.toContain('csrfToken');
  const ui = await fetch(`${stack.url}/ui`, { headers: { origin: page } });
  expect(ui.headers.get('access-control-allow-origin')).toBeNull();
  const own = await fetch(`${stack.url}/admin/api/session`, { headers: { origin: stack.url } });
  expect(own.status).toBe(200);
  expect(await own.json()).toMatchObject({ access: 'open', csrfToken: expect.any(String) });
  expect((await fetch(`${stack.url}/admin/api/session`)).status).toBe(200);
});
