import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DashboardStack, startDashboardStack } from './dashboard-stack.test-helpers.js';

let stack: DashboardStack;

// Callers need virtual keys, so only the dashboard is open: no admin key, on loopback.
beforeAll(async () => {
  stack = await startDashboardStack({ GROUNDWORK_ADMIN_KEY: '' });
});

afterAll(async () => {
  await stack?.close();
});

/** A GET over real HTTP with this `Host` (fetch would not let a test choose it). */
function get(path: string, host: string): Promise<{ status: number; body: string }> {
  const port = Number(new URL(stack.url).port);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (incoming) => {
      let body = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => {
        body += chunk;
      });
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

it('an open dashboard refuses a rebound host name, and gives it no anti-CSRF token', async () => {
  const port = new URL(stack.url).port;
  const rebound = await get('/admin/api/session', `attacker.example:${port}`);
  expect(rebound.status).toBe(403);
  expect(JSON.parse(rebound.body)).toMatchObject({ error: { type: 'permission_error', code: 'host_not_loopback' } });
  expect(rebound.body).toContain('GROUNDWORK_ADMIN_KEY');
  expect(rebound.body).not.toContain('csrfToken');
  expect((await get('/admin/api/overview?range=day', `attacker.example:${port}`)).status).toBe(403);
});

it('an open dashboard answers this machine by its loopback names', async () => {
  const port = new URL(stack.url).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
    const answer = await get('/admin/api/session', host);
    expect(answer.status, host).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ access: 'open', csrfToken: expect.any(String) });
  }
});
