import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import OpenAI, { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import type { GroundworkServer } from '../server/create-server.js';
import { serveInfrastructure } from '../server/service-stack.test-helpers.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';

const KEY_A = 'sk-route-canary-a-5c1e9f07d2b84a36';
const KEY_B = 'sk-route-canary-b-8e2d4a61c9f03b75';
const KEY_C = 'sk-route-canary-c-1a7b3e95d4c2f068';
let fakes: FakeProviderServer[];
let dir: string;

beforeAll(async () => {
  // Each deployment is its own server that takes only its own key: an answer proves the right credentials went out.
  fakes = await Promise.all([KEY_A, KEY_B, KEY_C].map((key) => startFakeProviderServer({ apiKeys: [key] })));
  dir = await mkdtemp(join(tmpdir(), 'gw-routing-http-'));
});
afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const fake of fakes) fake.reset();
});

async function infraWith(routes: unknown, extra: Record<string, string> = {}) {
  const path = join(dir, `routes-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify(routes));
  const { logger, lines } = captureLogger('debug');
  const infra = await createInfrastructure({
    env: {
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-unused-by-groups',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      GROUNDWORK_ROUTES: path,
      LLM_LEDGER_FLUSH_MS: '10',
      LLM_MAX_ATTEMPTS: '1',
      KEY_A,
      KEY_B,
      KEY_C,
      ...extra,
    },
    envFile: false,
    logger,
  });
  await infra.initDb();
  return { infra, lines };
}

const deployment = (name: string, index: number, extra: Record<string, unknown> = {}) => ({
  name,
  provider: 'openai',
  model: `model-${name}`,
  baseUrl: fakes[index]!.openaiBaseUrl,
  apiKeyEnv: ['KEY_A', 'KEY_B', 'KEY_C'][index],
  ...extra,
});

describe('routing over real HTTP against fake deployments', () => {
  let infra: Infrastructure | undefined;
  afterAll(async () => {
    await infra?.close();
  });

  it('answers a call for a group from one of its deployments, with that deployment in the metadata, ledger, metrics and logs', async () => {
    const { infra: opened, lines } = await infraWith({
      groups: { 'chat-fast': { strategy: 'weighted-random', deployments: [deployment('eu', 0), deployment('us', 1)] } },
    });
    infra = opened;
    const answers = [];
    for (let index = 0; index < 6; index++)
      answers.push(await opened.llm.complete({ model: 'chat-fast', messages: [{ role: 'user', content: `hi ${index}` }] }));
    const deployments = answers.map((answer) => answer.metadata.deployment);
    for (const name of deployments) expect(['eu', 'us']).toContain(name);
    expect(fakes[0]!.requests.length + fakes[1]!.requests.length).toBe(6);
    for (const answer of answers) expect(answer.metadata.model).toBe(`model-${answer.metadata.deployment}`);

    await opened.llm.flush();
    const rows = await opened.db.selectFrom('llm_usage').select(['deployment', 'model', 'outcome']).orderBy('id').execute();
    expect(rows.map((row) => row.deployment)).toEqual(deployments);
    const metrics = await opened.metrics.registry.metrics();
    expect(metrics).toMatch(
      /groundwork_llm_deployment_attempts_total\{group="chat-fast",deployment="(eu|us)",provider="openai",model="model-(eu|us)",outcome="success"\}/,
    );
    const log = lines.join('\n');
    expect(log).toContain('"deployment":"');
    for (const key of [KEY_A, KEY_B]) {
      expect(log).not.toContain(key);
      expect(inspect(opened.config, { depth: 10 })).not.toContain(key);
    }
    await opened.close();
    infra = undefined;
  });

  it('moves a call off a deployment that answers 429 at once, and falls back to another group when a group fails', async () => {
    const { infra: opened, lines } = await infraWith({
      groups: {
        'chat-fast': { strategy: 'weighted-random', fallbacks: ['chat-safe'], deployments: [deployment('eu', 0), deployment('us', 1)] },
        'chat-safe': { deployments: [deployment('safe', 2)] },
      },
    });
    infra = opened;
    // Both fast deployments throttle with a long Retry-After: nobody waits for it.
    fakes[0]!.setHandler(() => ({ type: 'error', status: 429, retryAfter: 30 }));
    fakes[1]!.setHandler(() => ({ type: 'error', status: 500 }));
    const started = performance.now();
    const answer = await opened.llm.complete({ model: 'chat-fast', messages: [{ role: 'user', content: 'hello' }] });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(answer.metadata.deployment).toBe('safe');
    expect(answer.metadata.attempts.map((attempt) => [attempt.deployment, attempt.outcome])).toEqual(
      expect.arrayContaining([
        ['eu', 'error'],
        ['us', 'error'],
        ['safe', 'success'],
      ]),
    );
    fakes[1]!.setHandler(undefined);
    // The throttled deployment stays out until its Retry-After: the next calls go to the other.
    for (let index = 0; index < 3; index++) {
      const next = await opened.llm.complete({ model: 'chat-fast', messages: [{ role: 'user', content: `again ${index}` }] });
      expect(next.metadata.deployment).toBe('us');
    }
    expect(fakes[0]!.requests).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(KEY_A);
    await opened.close();
    infra = undefined;
  });

  it('streams a call for a group, naming the deployment in the start event', async () => {
    const { infra: opened } = await infraWith({ groups: { 'chat-fast': { deployments: [deployment('eu', 0)] } } });
    infra = opened;
    fakes[0]!.enqueue({ type: 'answer', content: 'Hallo Welt', chunks: 3 });
    const events = [];
    for await (const event of opened.llm.stream({ model: 'chat-fast', messages: [{ role: 'user', content: 'hello' }] })) events.push(event);
    expect(events[0]).toMatchObject({ type: 'start', deployment: 'eu', model: 'model-eu' });
    const done = events.at(-1);
    expect(done?.type === 'done' ? done.response.metadata.deployment : undefined).toBe('eu');
    expect(done?.type === 'done' ? done.response.content : undefined).toBe('Hallo Welt');
    await opened.close();
    infra = undefined;
  });

  it('refuses to start on a routes file with a key written in it', async () => {
    const path = join(dir, 'inline.json');
    await writeFile(path, JSON.stringify({ groups: { g: { deployments: [{ provider: 'openai', model: 'm', apiKey: KEY_A }] } } }));
    const error = await createInfrastructure({ env: { DATABASE_URL: 'sqlite::memory:', GROUNDWORK_ROUTES: path }, envFile: false }).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toContain('apiKey: secrets are never written in the routes file');
    expect(error?.message).not.toContain(KEY_A);
  });
});

describe('groundwork serve for a group whose deployments answer 429', () => {
  const SERVE_KEY = 'gw-routing-serve-key';
  let opened: Infrastructure | undefined;
  let server: GroundworkServer | undefined;
  afterEach(async () => {
    await server?.close();
    await opened?.close();
    server = undefined;
    opened = undefined;
  });

  /** Serves infrastructure made from `routes` and `extra`, and asks it for one chat answer from `model` with the OpenAI SDK: the error it fails with. */
  async function serveAndAsk(routes: unknown, model: string, extra: Record<string, string> = {}): Promise<APIError> {
    ({ infra: opened } = await infraWith(routes, {
      GROUNDWORK_API_KEYS: SERVE_KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      LLM_CACHE: 'off',
      ...extra,
    }));
    const served = await serveInfrastructure(opened);
    server = served.server;
    const client = new OpenAI({ apiKey: SERVE_KEY, baseURL: served.baseUrl, maxRetries: 0 });
    const error = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof APIError)) throw new Error(`expected the call to fail with an API error, got ${String(error)}`);
    return error;
  }

  it('sends each deployment one request for a Retry-After of 0 at LLM_MAX_ATTEMPTS=1, then answers 429 rate limited', async () => {
    for (const fake of fakes.slice(0, 2)) fake.setHandler(() => ({ type: 'error', status: 429, retryAfter: 0 }));
    // The deadline only bounds the test should the call loop: it is not what ends it.
    const error = await serveAndAsk({ groups: { 'chat-fast': { deployments: [deployment('eu', 0), deployment('us', 1)] } } }, 'chat-fast', {
      LLM_DEADLINE_MS: '5000',
    });
    expect(fakes[0]!.requests).toHaveLength(1);
    expect(fakes[1]!.requests).toHaveLength(1);
    expect(error.status).toBe(429);
    expect(error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_rate_limited' });
    expect(error.message).toContain('rate limited (HTTP 429)');
    expect(error.message).toContain('gave up after 2 attempts');
    expect(error.headers?.get('retry-after')).toBe('0');
  });

  it('answers an exhausted quota as it does outside a group: 429 insufficient_quota, not retryable, with no Retry-After', async () => {
    for (const fake of fakes)
      fake.setHandler(() => ({ type: 'error', status: 429, code: 'insufficient_quota', message: 'You exceeded your current quota' }));
    const grouped = await serveAndAsk(
      { groups: { 'chat-fast': { deployments: [deployment('eu', 0), deployment('us', 1)] } } },
      'chat-fast',
      {
        LLM_MAX_ATTEMPTS: '3',
      },
    );
    expect(fakes[0]!.requests).toHaveLength(1);
    expect(fakes[1]!.requests).toHaveLength(1);
    await server?.close();
    await opened?.close();

    // The same upstream answer to a call that names no group.
    const plain = await serveAndAsk({ groups: { 'chat-fast': { deployments: [deployment('eu', 0)] } } }, 'gpt-4o-mini', {
      LLM_MAX_ATTEMPTS: '3',
      OPENAI_API_KEY: KEY_C,
      OPENAI_BASE_URL: fakes[2]!.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
    });
    expect(fakes[2]!.requests).toHaveLength(1);
    for (const error of [grouped, plain]) {
      expect(error.status).toBe(429);
      expect(error).toMatchObject({ type: 'rate_limit_error', code: 'insufficient_quota' });
      expect(error.message).toContain('quota exhausted');
      expect(error.message).toContain('not retryable');
      expect(error.headers?.get('retry-after')).toBeNull();
      expect(error.headers?.get('x-should-retry')).toBe('false');
    }
  });
});
