import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeSignals, serveCommand } from '../cli/commands/serve.js';
import { recordingIo } from '../cli/test-io.test-helpers.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';

const KEY_CHEAP = 'sk-group-keys-cheap-3b9d0c5e7f21a846';
const KEY_DEAR = 'sk-group-keys-dear-9a4e6f1d2c7b8053';
const ADMIN_KEY = 'gw-admin-group-keys-6d1f0a9e3c';
/** USD per million tokens: the dear deployment costs ten times the cheap one, input and output. */
const PRICES = { 'cheap-model': { input: 100, output: 1000 }, 'dear-model': { input: 1000, output: 10_000 } };
/** 'hi' is 2 bytes; no tokenizer is known for these models, so the prompt bound is 2 + 4 + 3 tokens. */
const PROMPT_BOUND = 9;
const USAGE = { promptTokens: 11, completionTokens: 7 };
const costAt = (price: { input: number; output: number }, input: number, output: number) =>
  (input * price.input + output * price.output) / 1_000_000;

let cheap: FakeProviderServer;
let dear: FakeProviderServer;
let dir: string;
let url: string;
let stop: (name: string) => void;
let exit: Promise<number>;

beforeAll(async () => {
  [cheap, dear] = await Promise.all([startFakeProviderServer({ apiKeys: [KEY_CHEAP] }), startFakeProviderServer({ apiKeys: [KEY_DEAR] })]);
  dir = await mkdtemp(join(tmpdir(), 'gw-routing-tenants-'));
  const deployment = (name: string, model: string, fake: FakeProviderServer, keyEnv: string) => ({
    name,
    provider: 'openai',
    model,
    baseUrl: fake.openaiBaseUrl,
    apiKeyEnv: keyEnv,
  });
  const routes = join(dir, 'routes.json');
  await writeFile(
    routes,
    JSON.stringify({
      groups: {
        'chat-fast': {
          strategy: 'weighted-random',
          deployments: [deployment('cheap', 'cheap-model', cheap, 'KEY_CHEAP'), deployment('dear', 'dear-model', dear, 'KEY_DEAR')],
        },
      },
    }),
  );
  const io = recordingIo({
    LOG_LEVEL: 'silent',
    DATABASE_URL: `sqlite:${join(dir, 'app.db')}`,
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-unused-by-groups',
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    GROUNDWORK_ROUTES: routes,
    GROUNDWORK_VIRTUAL_KEYS: 'true',
    GROUNDWORK_ADMIN_KEY: ADMIN_KEY,
    LLM_PRICES: JSON.stringify(PRICES),
    LLM_CACHE: 'off',
    LLM_MAX_ATTEMPTS: '1',
    LLM_LEDGER_FLUSH_MS: '10',
    TENANT_MIN_OUTPUT_TOKENS: '10',
    KEY_CHEAP,
    KEY_DEAR,
    PORT: '0',
  });
  let send: (name: string) => void = () => undefined;
  const signals: ServeSignals = { stopped: new Promise<string>((resolve) => (send = resolve)), dispose: () => undefined };
  stop = send;
  exit = serveCommand(io, signals);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(io.stderr.join('\n'))?.[1];
    if (found !== undefined) {
      url = found;
      break;
    }
    if (Date.now() > deadline) throw new Error(`serve did not start: ${io.stderr.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}, 90_000);

afterAll(async () => {
  stop?.('SIGTERM');
  await exit;
  await Promise.all([cheap?.close(), dear?.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function createKey(fields: Record<string, unknown>): Promise<{ id: string; plainKey: string }> {
  const response = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { key: { id: string }; plainKey: string };
  return { id: body.key.id, plainKey: body.plainKey };
}

function chat(apiKey: string, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat-fast', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

/** Reads the service's SQLite database beside it (read-only). */
function query<T>(sql: string, ...parameters: unknown[]): T[] {
  const database = new Sqlite(join(dir, 'app.db'), { readonly: true });
  try {
    return database.prepare(sql).all(...parameters) as T[];
  } finally {
    database.close();
  }
}

async function ledgerRows(keyId: string, count: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = query<{ deployment: string | null; model: string; cost_usd: number; outcome: string }>(
      'select deployment, model, cost_usd, outcome from llm_usage where key_id = ? order by id',
      keyId,
    );
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const spentUsd = (keyId: string) =>
  (query<{ spent_nano: number }>('select spent_nano from groundwork_budget_counters where counter = ?', `key:${keyId}:total`)[0]
    ?.spent_nano ?? 0) / 1e9;

describe('virtual keys over model groups, through groundwork serve', () => {
  it('lets a key allowed the group reach it, and refuses with 403 naming the group a key allowed only its deployments', async () => {
    const allowed = await createKey({ name: 'group-caller', allowedModels: ['chat-fast'] });
    const answered = await chat(allowed.plainKey);
    expect(answered.status).toBe(200);
    expect(cheap.requests.length + dear.requests.length).toBe(1);

    const narrow = await createKey({ name: 'deployment-caller', allowedModels: ['cheap-model', 'dear-model'] });
    const refused = await chat(narrow.plainKey);
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('model_not_allowed');
    expect(body.error.message).toContain('"chat-fast"');
    expect(cheap.requests.length + dear.requests.length).toBe(1);
  });

  it("reserves a call for the group at its dearest deployment's price and settles at the price of the one that answered", async () => {
    const { id, plainKey } = await createKey({ name: 'budgeted-caller', allowedModels: ['chat-fast'], totalBudgetUsd: 5 });
    cheap.reset();
    dear.reset();
    // The dear deployment fails, whichever is tried first: the cheap one answers, after a pause in which the reservation is read.
    dear.setHandler(() => ({ type: 'error', status: 500 }));
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    cheap.setHandler(async () => {
      await held;
      return { type: 'answer', content: 'hello', usage: USAGE };
    });
    const pending = chat(plainKey, { max_tokens: 50 });
    await cheap.waitForRequests(1);
    const heldUnder = (counter: string) =>
      query<{ id: string; amount_nano: number }>('select id, amount_nano from groundwork_budget_reservations where counter = ?', counter);
    const reserved = heldUnder(`key:${id}:total`);
    expect(reserved).toHaveLength(1);
    // The ids of the calls' reservations, read while each call is held, for the settlement markers below.
    const reservationIds = [reserved[0]!.id];
    expect(reserved[0]!.amount_nano / 1e9).toBeCloseTo(costAt(PRICES['dear-model'], PROMPT_BOUND, 50), 9);
    release();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { model: string }).model).toBe('cheap-model');
    const settled = costAt(PRICES['cheap-model'], USAGE.promptTokens, USAGE.completionTokens);
    expect(spentUsd(id)).toBeCloseTo(settled, 9);
    const rows = await ledgerRows(id, 1);
    expect(rows).toEqual([{ deployment: 'cheap', model: 'cheap-model', cost_usd: expect.closeTo(settled, 9), outcome: 'success' }]);

    // Now the cheap one fails: the dear one answers and the key is charged its price.
    cheap.setHandler(() => ({ type: 'error', status: 500 }));
    dear.setHandler(() => {
      reservationIds.push(...heldUnder(`key:${id}:total`).map((row) => row.id));
      return { type: 'answer', content: 'hello', usage: USAGE };
    });
    expect((await chat(plainKey, { max_tokens: 50 })).status).toBe(200);
    const dearCost = costAt(PRICES['dear-model'], USAGE.promptTokens, USAGE.completionTokens);
    expect(spentUsd(id)).toBeCloseTo(settled + dearCost, 9);
    expect((await ledgerRows(id, 2))[1]).toMatchObject({ deployment: 'dear', model: 'dear-model', outcome: 'success' });
    // A stream is settled the same way, at the end of its answer.
    const streamed = await chat(plainKey, { max_tokens: 50, stream: true });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain('[DONE]');
    expect(spentUsd(id)).toBeCloseTo(settled + 2 * dearCost, 9);
    // Nothing stays reserved under the counter; each settled call left one zero-amount marker, under
    // `settled:<counter>` with its reservation's id, that makes a repeated settlement a no-op.
    expect(heldUnder(`key:${id}:total`)).toEqual([]);
    expect(reservationIds).toHaveLength(3);
    expect(new Set(reservationIds).size).toBe(3);
    const markers = heldUnder(`settled:key:${id}:total`);
    expect(markers.map((row) => row.id).sort()).toEqual([...reservationIds].sort());
    expect(markers.map((row) => Number(row.amount_nano))).toEqual([0, 0, 0]);
  });

  it('shrinks the output allowance to what the dearest deployment affords, and names the last deployment a failed call tried', async () => {
    // Room for the prompt and 30 output tokens at the dear price; the cheap price alone would allow 300.
    const budget = costAt(PRICES['dear-model'], PROMPT_BOUND, 30);
    const { id, plainKey } = await createKey({ name: 'tight-caller', allowedModels: ['chat-fast'], totalBudgetUsd: budget });
    cheap.reset();
    dear.reset();
    const tried: string[] = [];
    const failing = (name: string) => () => {
      tried.push(name);
      return { type: 'error' as const, status: 500 };
    };
    cheap.setHandler(failing('cheap'));
    dear.setHandler(failing('dear'));
    expect((await chat(plainKey)).status).toBeGreaterThanOrEqual(500);
    const sent = [...cheap.requests, ...dear.requests].map((request) => {
      const body = request.body as { max_tokens?: number; max_completion_tokens?: number };
      return body.max_completion_tokens ?? body.max_tokens;
    });
    expect(sent).toEqual([30, 30]);
    const last = tried.at(-1);
    expect(tried).toHaveLength(2);
    const [row] = await ledgerRows(id, 1);
    expect(row).toMatchObject({ deployment: last, cost_usd: 0 });
    expect(row?.outcome).not.toBe('success');
    expect(spentUsd(id)).toBe(0);
  });
});
