import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import type { Dashboard } from './dashboard.js';
import { DashboardGuard } from './dashboard-guard.js';
import { ADMIN_KEY, type DashboardStack, startDashboardStack } from './dashboard-stack.test-helpers.js';
import { insertUsage } from './ledger-seed.test-helpers.js';
import { CONTENT_SECURITY_POLICY } from './ui-route.js';

let stack: DashboardStack;

beforeAll(async () => {
  stack = await startDashboardStack();
  const now = Date.now();
  await insertUsage(stack.database.db, [
    {
      created_at: new Date(now - 120_000),
      model: 'gpt-4o',
      total_tokens: 300,
      cost_usd: 0.5,
      latency_ms: 700,
      prompt_name: 'summarise',
      prompt_version: '2',
    },
    {
      created_at: new Date(now - 60_000),
      model: 'gpt-4o',
      outcome: 'provider_timeout',
      latency_ms: 30_000,
      prompt_name: 'summarise',
      prompt_version: '2',
    },
  ]);
});

afterAll(async () => {
  await stack?.close();
});

const bearer = { authorization: `Bearer ${ADMIN_KEY}` };

async function login(key: string): Promise<Response> {
  return fetch(`${stack.url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.url },
    body: new URLSearchParams({ key }).toString(),
  });
}

describe('the dashboard API on groundwork serve', () => {
  it('answers the overview to the admin key, with the figures of the ledger', async () => {
    const response = await fetch(`${stack.url}/admin/api/overview?range=hour`, { headers: bearer });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { totals: Record<string, number>; breakdown: { model: Array<{ group: string }> } };
    expect(body.totals).toEqual({ calls: 2, failures: 1, tokens: 300, costUsd: 0.5 });
    expect(body.breakdown.model[0]?.group).toBe('gpt-4o');
  });

  it('refuses a missing or wrong key, and a caller key, with one clear error', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Bearer gw-someone-else' }]) {
      const response = await fetch(`${stack.url}/admin/api/overview`, { headers });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_admin_key');
      expect(body.error.message).not.toContain(ADMIN_KEY);
    }
  });

  it('checks the key before saying which methods it accepts', async () => {
    for (const method of ['PUT', 'OPTIONS']) {
      const anonymous = await fetch(`${stack.url}/admin/api/keys`, { method });
      expect(anonymous.status, method).toBe(401);
      expect(anonymous.headers.get('allow'), method).toBeNull();
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('invalid_admin_key');
    }
    // Admitted, each is told what its resource accepts.
    const cases: Array<[method: string, path: string, allow: string]> = [
      ['PUT', 'keys', 'GET, HEAD, POST'],
      ['PATCH', 'keys', 'GET, HEAD, POST'],
      ['POST', 'keys/key_1', 'PATCH, DELETE'],
      ['DELETE', 'teams/team_1', 'PATCH'],
      ['PUT', 'overview', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const admitted = await fetch(`${stack.url}/admin/api/${path}`, { method, headers: bearer });
      expect(admitted.status, `${method} ${path}`).toBe(405);
      expect(admitted.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(((await admitted.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    }
  });

  it('names a bad parameter', async () => {
    const response = await fetch(`${stack.url}/admin/api/overview?range=year`, { headers: bearer });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      'Invalid range: "year" is not a range; use hour, day, week, month.',
    );
    expect((await fetch(`${stack.url}/admin/api/nothing`, { headers: bearer })).status).toBe(404);
  });

  it('reads an empty before= as the first page, and names a before that is not a positive whole number', async () => {
    const first = await fetch(`${stack.url}/admin/api/calls?search=&outcome=&before=&limit=`, { headers: bearer });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { data: unknown[] }).data).toHaveLength(2);
    for (const before of ['-1', '0', '1.5', 'abc']) {
      const refused = await fetch(`${stack.url}/admin/api/calls?before=${before}`, { headers: bearer });
      expect(refused.status, before).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^Invalid before: /);
    }
  });

  it('sends the login page to a visitor without a session, and refuses a wrong key there', async () => {
    const page = await fetch(`${stack.url}/ui`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/ui/login');
    const refused = await login('not-the-key');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.text()).toContain('<p class="login-error">That is not the admin key.</p>');
  });

  it('logs in with an HttpOnly, SameSite=Strict cookie under a strict CSP, and serves the page', async () => {
    const response = await login(ADMIN_KEY);
    expect(response.status).toBe(303);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^groundwork_session=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(ADMIN_KEY);
    const session = cookie.split(';')[0] ?? '';
    const page = await fetch(`${stack.url}/ui`, { headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(await page.text()).toContain('<script type="module" src="/ui/assets/app.js"></script>');
    const script = await fetch(`${stack.url}/ui/assets/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Nothing is fetched from elsewhere: no URL of another origin in the bundle.
    expect(await script.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\//i);
  });

  it('needs the session and its anti-CSRF token for a write', async () => {
    const session = (await login(ADMIN_KEY)).headers.get('set-cookie')?.split(';')[0] ?? '';
    const info = (await (await fetch(`${stack.url}/admin/api/session`, { headers: { cookie: session } })).json()) as { csrfToken: string };
    const create = (headers: Record<string, string>) =>
      fetch(`${stack.url}/admin/api/keys`, {
        method: 'POST',
        headers: { cookie: session, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: `csrf-${headers['x-groundwork-csrf']?.length ?? 0}` }),
      });
    const withoutToken = await create({});
    expect(withoutToken.status).toBe(403);
    expect(((await withoutToken.json()) as { error: { code: string } }).error.code).toBe('csrf_refused');
    expect((await create({ 'x-groundwork-csrf': 'forged' })).status).toBe(403);
    expect((await create({ 'x-groundwork-csrf': info.csrfToken, origin: 'https://evil.example' })).status).toBe(403);
    const created = await create({ 'x-groundwork-csrf': info.csrfToken, origin: stack.url });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { plainKey: string }).plainKey).toMatch(/^gw-/);
  });

  it('refuses a forged or expired session cookie', async () => {
    for (const cookie of ['groundwork_session=9999999999999.forged', 'groundwork_session=1.AAAA', 'groundwork_session=']) {
      expect((await fetch(`${stack.url}/admin/api/session`, { headers: { cookie } })).status).toBe(401);
    }
  });

  it('refuses a login or logout form posted by another site, which then cannot lock the admin key out', async () => {
    // A page with <meta name="referrer" content="no-referrer"> posts with Origin: null; its browser still says cross-site.
    for (const site of ['cross-site', 'same-site']) {
      const post = (path: string, body: string) =>
        fetch(`${stack.url}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { origin: 'null', 'sec-fetch-site': site, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
      const logout = await post('/ui/logout', '');
      expect(logout.status, site).toBe(403);
      expect(logout.headers.get('set-cookie'), site).toBeNull();
      for (let attempt = 0; attempt < 11; attempt++) expect((await post('/ui/login', 'key=wrong')).status, site).toBe(403);
    }
    expect((await fetch(`${stack.url}/admin/api/session`, { headers: bearer })).status).toBe(200);
    // The page's own form, sent with Origin: null under its no-referrer policy, is still accepted.
    const own = await fetch(`${stack.url}/ui/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: 'null', 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: ADMIN_KEY }).toString(),
    });
    expect(own.status).toBe(303);
  });

  it('names an unknown key field instead of dropping it', async () => {
    const response = await fetch(`${stack.url}/admin/api/keys`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'typo', montlyBudgetUsd: 5 }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /^montlyBudgetUsd: not a field of a key; the fields are name, /,
    );
  });

  // Last: it spends this address's wrong keys for the minute.
  it('shows the login page, not JSON, with the reason and Retry-After once the wrong keys of the minute are spent', async () => {
    let locked: Response | undefined;
    for (let attempt = 0; attempt < 11 && locked === undefined; attempt++) {
      const refused = await login(`guess-${attempt}`);
      if (refused.status === 429) locked = refused;
      else expect(refused.status).toBe(401);
    }
    expect(locked?.status).toBe(429);
    expect(Number(locked?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(locked?.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(locked?.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const page = (await locked?.text()) ?? '';
    expect(page).toContain('<form method="post" action="/ui/login">');
    expect(page).toMatch(/<p class="login-error">Too many wrong keys from this address in the last minute; try again in \d+ s\.<\/p>/);
    expect(page).not.toContain('That is not the admin key.');
  });
});

describe('the dashboard off switch', () => {
  const dashboard = (adminKey: Secret | undefined): Dashboard => ({
    db: stack.database.db,
    adminKey,
    metrics: new GroundworkMetrics(),
    breakers: async () => [],
    health: async () => ({ status: 'ok', checkedAt: '', dependencies: [] }),
  });

  it('is off on a non-loopback bind without an admin key, open on loopback, and on anywhere with one', () => {
    expect(() => new DashboardGuard(dashboard(undefined), '0.0.0.0').assertEnabled()).toThrow(/set GROUNDWORK_ADMIN_KEY/);
    const open = new DashboardGuard(dashboard(undefined), '127.0.0.1');
    expect(open.requireRead({ headers: {} } as IncomingMessage)).toEqual({ kind: 'open' });
    // Open on loopback, but a write still needs the page's token.
    expect(() => open.requireWrite({ headers: {} } as IncomingMessage)).toThrow(/x-groundwork-csrf/);
    const guarded = new DashboardGuard(dashboard(new Secret('GROUNDWORK_ADMIN_KEY', ADMIN_KEY)), '0.0.0.0');
    expect(() => guarded.requireRead({ headers: {} } as IncomingMessage)).toThrow(/needs GROUNDWORK_ADMIN_KEY/);
  });

  it('answers 429 after too many failed logins, even to the right key, until the minute is over', () => {
    let now = 1_000_000;
    const guard = new DashboardGuard({ ...dashboard(new Secret('GROUNDWORK_ADMIN_KEY', ADMIN_KEY)), now: () => now }, '127.0.0.1');
    for (let attempt = 0; attempt < 10; attempt++) expect(guard.login(`guess-${attempt}`)).toBeUndefined();
    expect(() => guard.login(ADMIN_KEY)).toThrow(/Too many failed logins/);
    now += 60_000;
    expect(guard.login(ADMIN_KEY)).toMatch(/^\d+\./);
  });
});
