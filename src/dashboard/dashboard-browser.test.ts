import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { type Browser, chromium, type Page, type Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type DashboardStack, startDashboardStack } from './dashboard-stack.test-helpers.js';
import { insertUsage, syntheticLedger } from './ledger-seed.test-helpers.js';
import { timeRange } from './time-range.js';
import { defaultUiDirectory } from './ui-assets.js';

/** Where the screenshots go (gitignored). */
const SCREENSHOTS = join(process.cwd(), 'test-output', 'dashboard');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

let stack: DashboardStack;
let browser: Browser;
let page: Page;
const cspViolations: string[] = [];

beforeAll(async () => {
  if (defaultUiDirectory() === undefined) throw new Error('The dashboard page is not built: run `npm run build` before these tests.');
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium), as .ci/run does.`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await startDashboardStack({ LLM_CIRCUIT_FAILURE_THRESHOLD: '2', LLM_CIRCUIT_RESET_MS: '120000' });
  const keys = await Promise.all(
    ['billing-service', 'search-indexer', 'support-bot'].map(async (name, index) => {
      const response = await fetch(`${stack.url}/admin/api/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, monthlyBudgetUsd: [40, 15, 5][index] }),
      });
      return ((await response.json()) as { key: { id: string } }).key.id;
    }),
  );
  // A day of traffic, ending a minute ago and starting well inside the 24-hour range.
  const now = Date.now();
  await insertUsage(stack.database.db, syntheticLedger({ count: 3000, fromMs: now - 23 * 3_600_000, toMs: now - 60_000, keyIds: keys }));
  // And some days before: the week's figures differ from the day's.
  await insertUsage(
    stack.database.db,
    syntheticLedger({ count: 500, fromMs: now - 4 * 86_400_000, toMs: now - 3 * 86_400_000, keyIds: keys, seed: 7 }),
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A missing element fails its step within the test's time, naming the locator.
  page.setDefaultTimeout(6000);
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function chat(key: string, model = 'gpt-4o-mini'): Promise<Response> {
  return fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
}

const count = (value: number) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(value);
const usd = (value: number) => `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

describe('the dashboard in a browser', () => {
  it('refuses wrong admin credentials', async () => {
    await page.goto(`${stack.url}/ui`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.fill('#key', 'not-the-admin-key');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/ui/login')),
      page.click('button[type=submit]'),
    ]);
    expect(answer.status()).toBe(401);
    await expect(page.locator('.login-error').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'login-refused.png') });
    const cookies = await page.context().cookies();
    expect(cookies.filter((cookie) => cookie.name === 'groundwork_session')).toEqual([]);
  });

  it('logs in and draws the overview from the ledger, with the figures SQL gives', async () => {
    await page.fill('#key', ADMIN_KEY);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=kpi-calls]');
    const [session] = (await page.context().cookies()).filter((cookie) => cookie.name === 'groundwork_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const range = timeRange('day', Date.now());
    const expected = await stack.database.db
      .selectFrom('llm_usage')
      .select([sql<number>`count(*)`.as('calls'), sql<number>`sum(cost_usd)`.as('cost'), sql<number>`sum(total_tokens)`.as('tokens')])
      .where('created_at', '>=', new Date(range.fromMs))
      .executeTakeFirstOrThrow();
    expect(Number(expected.calls)).toBe(3000);
    await expect(page.textContent('[data-testid=kpi-calls]')).resolves.toBe(count(Number(expected.calls)));
    await expect(page.textContent('[data-testid=kpi-cost]')).resolves.toBe(usd(Number(expected.cost)));
    await expect(page.textContent('[data-testid=kpi-tokens]')).resolves.toBe(count(Number(expected.tokens)));
    for (const chart of ['calls', 'cost', 'latency', 'errors']) {
      await expect(page.locator(`[data-testid=chart-${chart}] canvas`).count()).resolves.toBe(1);
    }
    const topModel = await stack.database.db
      .selectFrom('llm_usage')
      .select(['model', sql<number>`sum(cost_usd)`.as('cost')])
      .where('created_at', '>=', new Date(range.fromMs))
      .groupBy('model')
      .orderBy(sql`2`, 'desc')
      .executeTakeFirstOrThrow();
    const firstRow = page.locator('[data-testid=breakdown] tbody tr').first();
    await expect(firstRow.textContent()).resolves.toContain(topModel.model);
    await expect(firstRow.textContent()).resolves.toContain(usd(Number(topModel.cost)));
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png'), fullPage: true });
    // The week reads the hourly roll-ups: its figures are still those of the raw ledger.
    const week = timeRange('week', Date.now());
    const weekly = await stack.database.db
      .selectFrom('llm_usage')
      .select([sql<number>`count(*)`.as('calls'), sql<number>`sum(cost_usd)`.as('cost'), sql<number>`sum(total_tokens)`.as('tokens')])
      .where('created_at', '>=', new Date(week.fromMs))
      .executeTakeFirstOrThrow();
    expect(Number(weekly.calls)).toBe(3500);
    await page.click('button:has-text("Last 7 days")');
    await expect
      .poll(() => page.textContent('[data-testid=kpi-calls]'), { timeout: 8000, interval: 100 })
      .toBe(count(Number(weekly.calls)));
    await expect(page.textContent('[data-testid=kpi-cost]')).resolves.toBe(usd(Number(weekly.cost)));
    await expect(page.textContent('[data-testid=kpi-tokens]')).resolves.toBe(count(Number(weekly.tokens)));
    await page.click('button:has-text("Last 24 hours")');
  });

  it('shows a breaker opening on the live view when the provider fails', async () => {
    const key = await newKey('live-probe');
    expect((await chat(key)).status).toBe(200);
    await page.goto(`${stack.url}/ui#/live`);
    const row = page.locator('[data-testid="breaker-openai-gpt-4o-mini"]');
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('closed');
    stack.fake.setHandler(() => ({ type: 'error', status: 503 }));
    try {
      for (let call = 0; call < 2; call++) expect((await chat(key)).status).toBeGreaterThanOrEqual(500);
      // The view refreshes itself: no reload.
      await expect.poll(() => row.textContent(), { timeout: 8000, interval: 250 }).toContain('■ open');
      await expect(row.textContent()).resolves.toMatch(/open.*in \d+ s/);
      // Bucket levels and the slot line beside the breakers.
      const bucket = page.locator('[data-testid="limit-openai-gpt-4o-mini"]');
      await expect(bucket.textContent()).resolves.toMatch(/of [\d,]+/);
      await expect(page.locator('[data-testid=concurrency]').textContent()).resolves.toContain('openai');
      await expect(page.textContent('[data-testid=live-queued]')).resolves.toBe('0');
      await page.screenshot({ path: join(SCREENSHOTS, 'live.png'), fullPage: true });
    } finally {
      stack.fake.setHandler(undefined);
    }
  });

  it('creates a key from the page, which then works, and revokes it, which then is refused', async () => {
    await page.goto(`${stack.url}/ui#/keys`);
    await page.click('button:has-text("New key")');
    await page.fill('[data-testid=key-form] input[aria-label="Key name"]', 'made-in-the-browser');
    await page.fill('[data-testid=key-form] input[aria-label="Monthly budget (USD)"]', '25');
    await page.fill('[data-testid=key-form] input[aria-label="Requests per minute"]', '600');
    await page.click('button:has-text("Create key")');
    const plain = (await page.textContent('[data-testid=plain-key]'))?.trim() ?? '';
    expect(plain).toMatch(/^gw-/);
    // The model answers on another circuit than the one the live test opened.
    const used = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${plain}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(used.status).toBe(200);
    const row = page.locator('[data-testid="key-made-in-the-browser"]');
    await expect(row.textContent()).resolves.toContain('of $25.00 / month');
    await page.screenshot({ path: join(SCREENSHOTS, 'keys.png'), fullPage: true });
    await row.locator('button:has-text("Revoke")').click();
    await row.locator('button:has-text("Confirm revoke")').click();
    await expect.poll(() => row.textContent(), { timeout: 8000, interval: 250 }).toContain('revoked');
    const refused = await chat(plain);
    expect(refused.status).toBe(401);
  });

  it("edits a key's budget and limits from the page, and the next call is refused for budget", async () => {
    const plain = await newKey('budget-edited');
    expect((await chat(plain, 'gpt-4o')).status).toBe(200);
    await page.goto(`${stack.url}/ui#/keys`);
    // The key was made after the page loaded its list.
    await page.reload();
    const row = page.locator('[data-testid="key-budget-edited"]');
    await row.locator('button:has-text("Edit")').click();
    const form = page.locator('[data-testid=key-form]');
    await form.locator('input[aria-label="Monthly budget (USD)"]').fill('0');
    await form.locator('input[aria-label="Daily budget (USD)"]').fill('0');
    await form.locator('input[aria-label="Tokens per minute"]').fill('50000');
    await form.locator('input[aria-label="Allowed models"]').fill('gpt-4o, gpt-4o-mini');
    await page.screenshot({ path: join(SCREENSHOTS, 'keys-edit.png'), fullPage: true });
    await form.locator('button:has-text("Save")').click();
    await expect.poll(() => row.textContent(), { timeout: 8000, interval: 250 }).toContain('of $0.00 / month');
    await expect(row.textContent()).resolves.toContain('50K tok/min');
    const listed = await fetch(`${stack.url}/admin/api/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const key = ((await listed.json()) as { data: Array<Record<string, unknown>> }).data.find((entry) => entry['name'] === 'budget-edited');
    expect(key).toMatchObject({
      monthlyBudgetUsd: 0,
      dailyBudgetUsd: 0,
      tokensPerMinute: 50_000,
      allowedModels: ['gpt-4o', 'gpt-4o-mini'],
    });
    const refused = await chat(plain, 'gpt-4o');
    expect(refused.status).toBe(429);
    expect(JSON.stringify(await refused.json())).toMatch(/budget/i);
  });

  it("keeps a key's expiry, and every field left alone, when only its budget is edited", async () => {
    const expiresAt = new Date(Date.now() + 10 * 86_400_000);
    expiresAt.setUTCHours(9, 0, 0, 0);
    const created = await fetch(`${stack.url}/admin/api/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'expires-at-nine', expiresAt: expiresAt.toISOString(), requestsPerMinute: 60 }),
    });
    expect(created.status).toBe(201);
    const listKey = async () => {
      const listed = await fetch(`${stack.url}/admin/api/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return ((await listed.json()) as { data: Array<Record<string, unknown>> }).data.find((entry) => entry['name'] === 'expires-at-nine');
    };
    const before = await listKey();
    await page.goto(`${stack.url}/ui#/keys`);
    await page.reload();
    const row = page.locator('[data-testid="key-expires-at-nine"]');
    await row.locator('button:has-text("Edit")').click();
    const form = page.locator('[data-testid=key-form]');
    await form.locator('input[aria-label="Daily budget (USD)"]').fill('7');
    await form.locator('button:has-text("Save")').click();
    await expect.poll(async () => (await listKey())?.['dailyBudgetUsd'], { timeout: 8000, interval: 250 }).toBe(7);
    const after = await listKey();
    expect(after?.['expiresAt']).toBe(expiresAt.toISOString());
    expect({ ...after, dailyBudgetUsd: null, updatedAt: null }).toEqual({ ...before, dailyBudgetUsd: null, updatedAt: null });
  });

  it('creates and edits a team from the page, with its spend against its budget', async () => {
    await page.goto(`${stack.url}/ui#/keys`);
    await page.click('button:has-text("New team")');
    const form = page.locator('[data-testid=team-form]');
    await form.locator('input[aria-label="Team name"]').fill('search');
    await form.locator('input[aria-label="Monthly budget (USD)"]').fill('120');
    await form.locator('button:has-text("Create team")').click();
    const row = page.locator('[data-testid="team-search"]');
    await expect.poll(() => row.textContent(), { timeout: 8000, interval: 250 }).toContain('of $120.00 / month');
    await row.locator('button:has-text("Edit")').click();
    await page.locator('[data-testid=team-form] input[aria-label="Concurrent calls"]').fill('8');
    await page.locator('[data-testid=team-form] button:has-text("Save")').click();
    await expect.poll(() => row.textContent(), { timeout: 8000, interval: 250 }).toContain('8 at once');
    await page.screenshot({ path: join(SCREENSHOTS, 'keys.png'), fullPage: true });
  });

  it('opens a call, whose text is hidden without LLM_LOG_CONTENT=true', async () => {
    await page.goto(`${stack.url}/ui#/calls`);
    await page.locator('[data-testid=calls] tbody tr').first().click();
    await expect(page.textContent('[data-testid=call-content-off]')).resolves.toContain('LLM_LOG_CONTENT=true');
    await page.screenshot({ path: join(SCREENSHOTS, 'call-detail.png') });
  });

  it('keeps the live view updating when its data takes longer than the refresh interval', async () => {
    // A page of its own, on a clock the test moves: each answer is held until the test lets it go.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const slow = await context.newPage();
      slow.setDefaultTimeout(6000);
      await slow.clock.install();
      await logIn(slow, stack.url);
      const held: Route[] = [];
      await slow.route('**/admin/api/live', (route) => {
        held.push(route);
      });
      await slow.goto(`${stack.url}/ui#/live`);
      await expect.poll(() => held.length).toBe(1);
      // Ten seconds without an answer: the page waits for it, and asks nothing more meanwhile.
      await slow.clock.runFor(10_000);
      expect(held.length).toBe(1);
      await held[0]?.continue();
      const updated = slow.locator('[data-testid=live-updated]');
      await updated.waitFor();
      // 3 s after that answer, the next request, waited for in turn; and 3 s after its answer, the next.
      await slow.clock.runFor(3000);
      await expect.poll(() => held.length).toBe(2);
      await slow.clock.runFor(10_000);
      expect(held.length).toBe(2);
      await held[1]?.continue();
      await expect
        .poll(async () => {
          await slow.clock.runFor(1000);
          return held.length;
        })
        .toBe(3);
      await held[2]?.continue();
      await slow.screenshot({ path: join(SCREENSHOTS, 'live-slow.png') });
    } finally {
      await context.close();
    }
  });

  it("does not show the previous period's figures when the new period fails to load", async () => {
    await page.goto(`${stack.url}/ui#/overview`);
    await page.waitForSelector('[data-testid=kpi-calls]');
    await page.route('**/admin/api/overview?range=week', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { message: 'The database did not answer.' } }),
      }),
    );
    try {
      await page.click('button:has-text("Last 7 days")');
      await expect(page.locator('.error-note').textContent()).resolves.toContain('The database did not answer.');
      await expect(page.locator('[data-testid=kpi-calls]').count()).resolves.toBe(0);
      // The error alone, not "Loading…" under it as though an answer were still coming.
      await expect(page.getByText('Loading…').count()).resolves.toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, 'overview-failed.png') });
    } finally {
      await page.unroute('**/admin/api/overview?range=week');
    }
  });

  it('shows a failed first load as the error alone, with a way to try again', async () => {
    await page.route('**/admin/api/calls?*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { message: 'The database did not answer.' } }),
      }),
    );
    try {
      await page.goto(`${stack.url}/ui#/calls`);
      await expect(page.locator('.error-note').textContent()).resolves.toContain('The database did not answer.');
      await expect(page.getByText('Loading…').count()).resolves.toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, 'calls-failed.png') });
    } finally {
      await page.unroute('**/admin/api/calls?*');
    }
    await page.click('button:has-text("Try again")');
    await page.waitForSelector('[data-testid=calls] tbody tr');
    await expect(page.locator('.error-note').count()).resolves.toBe(0);
    // Nor does a page without data yet say it has none.
    await page.route('**/admin/api/prompts?*', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { message: 'No answer.' } }) }),
    );
    try {
      await page.goto(`${stack.url}/ui#/prompts`);
      await expect(page.locator('.error-note').textContent()).resolves.toContain('No answer.');
      await expect(page.getByText('No named prompt called in this period.').count()).resolves.toBe(0);
      await expect(page.locator('button:has-text("Try again")').count()).resolves.toBe(1);
    } finally {
      await page.unroute('**/admin/api/prompts?*');
    }
  });

  it('refuses a limit that is not a plain finite number, naming the field, and leaves the key unchanged', async () => {
    await newKey('not-a-number');
    await page.goto(`${stack.url}/ui#/keys`);
    await page.reload();
    const row = page.locator('[data-testid="key-not-a-number"]');
    const form = page.locator('[data-testid=key-form]');
    for (const typed of ['Infinity', '1e999', '0x10']) {
      await row.locator('button:has-text("Edit")').click();
      await form.locator('input[aria-label="Requests per minute"]').fill(typed);
      await form.locator('button:has-text("Save")').click();
      await expect
        .poll(() => page.locator('.error-note').first().textContent(), { timeout: 6000, interval: 100 })
        .toMatch(new RegExp(`^requestsPerMinute: .*\\(got ${typed}\\)`));
      if (typed === 'Infinity') await page.screenshot({ path: join(SCREENSHOTS, 'keys-not-a-number.png'), fullPage: true });
      await form.locator('button:has-text("Cancel")').click();
    }
    const listed = await fetch(`${stack.url}/admin/api/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const key = ((await listed.json()) as { data: Array<Record<string, unknown>> }).data.find((entry) => entry['name'] === 'not-a-number');
    expect(key?.['requestsPerMinute']).toBeNull();
  });

  it('opens a call from the keyboard', async () => {
    await page.goto(`${stack.url}/ui#/calls`);
    // No call left open by an earlier test.
    await page.reload();
    await page.waitForSelector('[data-testid=calls] tbody tr');
    await page.focus('.toolbar button[type=submit]');
    await page.keyboard.press('Tab');
    const first = page.locator('[data-testid=calls] tbody tr').first();
    const focused = await page.evaluate("document.activeElement?.closest('tr')?.getAttribute('data-testid')");
    expect(focused).toBe(await first.getAttribute('data-testid'));
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=call-content-off]').waitFor();
    await expect(first.locator('[aria-expanded]').getAttribute('aria-expanded')).resolves.toBe('true');
    await page.screenshot({ path: join(SCREENSHOTS, 'call-keyboard.png') });
  });

  it('lists calls and prompt versions, and fits a phone-width screen', async () => {
    await page.goto(`${stack.url}/ui#/calls`);
    await page.waitForSelector('[data-testid=calls] tbody tr');
    await expect(page.locator('[data-testid=calls] tbody tr:not(.detail-row)').count()).resolves.toBe(50);
    await page.screenshot({ path: join(SCREENSHOTS, 'calls.png') });
    await page.goto(`${stack.url}/ui#/prompts`);
    await page.waitForSelector('[data-testid=prompts] tbody tr');
    await page.screenshot({ path: join(SCREENSHOTS, 'prompts.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.url}/ui#/overview`);
    await page.waitForSelector('[data-testid=chart-calls] canvas');
    await page.screenshot({ path: join(SCREENSHOTS, 'overview-phone.png'), fullPage: true });
    // Nothing wider than the screen: no sideways scrolling of the page.
    await expect(page.evaluate('document.documentElement.scrollWidth - window.innerWidth')).resolves.toBeLessThanOrEqual(0);
    for (const view of ['keys', 'live']) {
      await page.goto(`${stack.url}/ui#/${view}`);
      await page.waitForSelector(view === 'keys' ? '[data-testid=keys]' : '[data-testid=breakers]');
      await page.screenshot({ path: join(SCREENSHOTS, `${view}-phone.png`), fullPage: true });
      await expect(page.evaluate('document.documentElement.scrollWidth - window.innerWidth')).resolves.toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(cspViolations).toEqual([]);
  });
});

/** Logs `page` in to `url` with the admin key on the login form. */
async function logIn(target: Page, url: string): Promise<void> {
  await target.goto(`${url}/ui`);
  await target.fill('#key', ADMIN_KEY);
  await target.click('button[type=submit]');
  await target.waitForSelector('[data-testid=kpi-calls]');
}

describe('the dashboard in a browser, over a small ledger with text', () => {
  let small: DashboardStack;
  let view: Page;
  /** The id of the turn a tool loop went on from. */
  let continuedId = 0;

  beforeAll(async () => {
    small = await startDashboardStack({ LLM_LOG_CONTENT: 'true' });
    // Every row in one half-hour bucket of the day, three hours ago: the latency chart has one lone value.
    const base = Math.floor((Date.now() - 3 * 3_600_000) / 1_800_000) * 1_800_000 + 60_000;
    const at = (seconds: number) => new Date(base + seconds * 1000);
    await insertUsage(small.database.db, [
      ...Array.from({ length: 10 }, (_, index) => ({
        created_at: at(index),
        model: `model-${index}`,
        cost_usd: 1 + index,
        latency_ms: 400,
      })),
      // Last called v1, then v3, then v2: each is still compared with the version before it.
      { created_at: at(10), prompt_name: 'summarise', prompt_version: '2', cost_usd: 0.02, latency_ms: 400 },
      { created_at: at(20), prompt_name: 'summarise', prompt_version: '3', cost_usd: 0.03, latency_ms: 400 },
      { created_at: at(30), prompt_name: 'summarise', prompt_version: '1', cost_usd: 0.01, latency_ms: 400 },
      {
        created_at: at(40),
        outcome: 'continued',
        request_id: 'req_loop',
        latency_ms: 400,
        prompt_text: JSON.stringify([{ role: 'user', content: 'What is the weather?' }]),
      },
      { created_at: at(41), request_id: 'req_loop', latency_ms: 400, answer_text: 'Sunny.' },
    ]);
    const row = await small.database.db.selectFrom('llm_usage').select('id').where('outcome', '=', 'continued').executeTakeFirstOrThrow();
    continuedId = Number(row.id);
    view = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    view.setDefaultTimeout(6000);
    await logIn(view, small.url);
  }, 60_000);

  afterAll(async () => {
    await view?.close();
    await small?.close();
  });

  it('draws a latency value with no value beside it as a point', async () => {
    await view.goto(`${small.url}/ui#/overview`);
    const canvas = view.locator('[data-testid=chart-latency] canvas');
    await canvas.waitFor();
    // The p50 series' colour, #0072B2.
    type Canvas = {
      width: number;
      height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
    };
    const drawn = await canvas.evaluate((element: Canvas) => {
      const context = element.getContext('2d');
      if (context === null) return -1;
      const { data } = context.getImageData(0, 0, element.width, element.height);
      let count = 0;
      for (let index = 0; index < data.length; index += 4) {
        const [red = 0, green = 0, blue = 0] = [data[index], data[index + 1], data[index + 2]];
        if (Math.abs(red - 0x00) < 40 && Math.abs(green - 0x72) < 40 && Math.abs(blue - 0xb2) < 40) count++;
      }
      return count;
    });
    await view.locator('[data-testid=chart-latency]').screenshot({ path: join(SCREENSHOTS, 'latency-lone-point.png') });
    expect(drawn).toBeGreaterThan(0);
  });

  it("names the groups past the spend table's first eight, with their spend", async () => {
    await view.goto(`${small.url}/ui#/overview`);
    const others = view.locator('[data-testid=breakdown-others]');
    // model-0 ($1), model-1 ($2) and gpt-4o-mini ($0.06): their spend once, in its column.
    await expect(others.locator('td').first().textContent()).resolves.toBe('3 more groups');
    await expect(others.locator('td.spend-col').textContent()).resolves.toBe('$3.06');
    await view.locator('[data-testid=breakdown]').screenshot({ path: join(SCREENSHOTS, 'breakdown-others.png') });
  });

  it('says where the answer of a continued turn is', async () => {
    await view.goto(`${small.url}/ui#/calls`);
    await view.locator(`[data-testid=call-${continuedId}]`).click();
    const detail = view.locator('[data-testid=call-detail]');
    await expect(detail.textContent()).resolves.toContain("An earlier turn of a call: the call's answer is on its last row");
    await expect(detail.textContent()).resolves.not.toContain('the call failed');
    await view.screenshot({ path: join(SCREENSHOTS, 'call-continued.png') });
  });

  it('compares each prompt version with the version before it, whatever order they were last called in', async () => {
    await view.goto(`${small.url}/ui#/prompts`);
    const rows = view.locator('[data-testid=prompts] tbody tr');
    await rows.first().waitFor();
    const byVersion = async (version: string) => rows.filter({ has: view.locator(`td:nth-child(2):text-is("${version}")`) });
    // v1 has no version before it; v2 and v3 each cost a cent more than the one before, and read so alike
    // (0.03 − 0.02 is a hair under a cent in floating point).
    await expect((await byVersion('1')).locator('.delta').count()).resolves.toBe(0);
    await expect((await byVersion('2')).locator('td:nth-child(5) .delta').textContent()).resolves.toBe('▲ $0.01');
    await expect((await byVersion('3')).locator('td:nth-child(5) .delta').textContent()).resolves.toBe('▲ $0.01');
    await view.screenshot({ path: join(SCREENSHOTS, 'prompts-versions.png') });
  });
});

async function newKey(name: string): Promise<string> {
  const response = await fetch(`${stack.url}/admin/api/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  return ((await response.json()) as { plainKey: string }).plainKey;
}
