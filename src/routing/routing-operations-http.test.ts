import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import { attemptsOf } from '../llm/call-pipeline.js';
import type { ResponsesResult } from '../llm/responses/responses-types.js';
import { silentLogger } from '../observability/logger.js';
import { createServer, type GroundworkServer } from '../server/create-server.js';
import { createServiceBackend } from '../server/infrastructure-backend.js';
import { serveInfrastructure } from '../server/service-stack.test-helpers.js';
import { DatabaseBudgetStore } from '../tenants/database-budget-store.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';
import { storedRequests } from '../testing/stored-requests.test-helpers.js';

/* Embeddings and forwarded Responses calls for a model group, routed like chat over real fake deployments. */

const KEYS = ['sk-ops-canary-a-2f81c0d9e4b7', 'sk-ops-canary-b-7a3e5c1f9d02', 'sk-ops-canary-c-c4d8a2e6b1f3'];
const SERVE_KEY = 'gw-ops-serve-key';
let fakes: FakeProviderServer[];
let dir: string;
let infra: Awaited<ReturnType<typeof createInfrastructure>> | undefined;
let server: GroundworkServer | undefined;

beforeAll(async () => {
  // Each deployment is its own server that takes only its own key (an answer proves the right
  // credentials went out) and makes response ids of its own (`resp_a_N`, `resp_b_N`, `resp_c_N`).
  fakes = await Promise.all(
    KEYS.map((key, index) => startFakeProviderServer({ apiKeys: [key], responseIdPrefix: `resp_${'abc'[index]}_` })),
  );
  dir = await mkdtemp(join(tmpdir(), 'gw-routing-ops-'));
});
afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const fake of fakes) fake.reset();
});
afterEach(async () => {
  await server?.close();
  await infra?.close();
  server = undefined;
  infra = undefined;
});

async function open(groups: Record<string, unknown>, extra: Record<string, string> = {}) {
  const path = join(dir, `routes-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify({ strategy: 'weighted-random', groups }));
  infra = await createInfrastructure({
    env: {
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-unused-by-groups',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      GROUNDWORK_ROUTES: path,
      LLM_LEDGER_FLUSH_MS: '10',
      LLM_MAX_ATTEMPTS: '1',
      LLM_CACHE: 'off',
      KEY_A: KEYS[0]!,
      KEY_B: KEYS[1]!,
      KEY_C: KEYS[2]!,
      GROUNDWORK_API_KEYS: SERVE_KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      SERVER_ACCESS_LOG: 'false',
      ...extra,
    },
    envFile: false,
    logger: silentLogger(),
  });
  await infra.initDb();
  return infra;
}

/**
 * Serves `opened` with its tenants on `server`, and makes a virtual key allowed the group `resp`
 * with a $1 budget: an OpenAI client with that key, and what the key has spent and holds reserved.
 */
async function servedKey(opened: Awaited<ReturnType<typeof open>>, name: string) {
  const served = await serveInfrastructure(opened, { virtualKeys: true });
  server = served.server;
  const { key, plainKey } = await opened.tenants.repository.createKey({ name, totalBudgetUsd: 1, allowedModels: ['resp'] });
  const client = new OpenAI({ apiKey: plainKey.reveal(), baseURL: served.baseUrl, maxRetries: 0 });
  const spent = async () => {
    const [state] = await new DatabaseBudgetStore(groundworkTables(opened.db)).read([`key:${key.id}:total`], Date.now());
    return { spentUsd: (state?.spentNano ?? 0) / 1e9, reservedUsd: (state?.reservedNano ?? 0) / 1e9 };
  };
  return { client, spent };
}

const openai = (name: string, index: number) => ({
  name,
  provider: 'openai',
  model: `model-${name}`,
  baseUrl: fakes[index]!.openaiBaseUrl,
  apiKeyEnv: ['KEY_A', 'KEY_B', 'KEY_C'][index],
});
/** A deployment whose provider has neither embeddings nor the Responses API: it must be skipped, never sent to. */
const anthropic = (name: string, index: number) => ({
  name,
  provider: 'anthropic',
  model: 'claude-3-5-haiku-latest',
  baseUrl: fakes[index]!.anthropicBaseUrl,
  apiKeyEnv: ['KEY_A', 'KEY_B', 'KEY_C'][index],
});

async function ledger() {
  await infra!.llm.flush();
  return infra!.db.selectFrom('llm_usage').select(['operation', 'deployment', 'model', 'outcome']).orderBy('id').execute();
}

async function drain(result: ResponsesResult): Promise<void> {
  if (result.stream) for await (const _event of result.events);
}

const sentTo = (attempts: ReadonlyArray<{ deployment?: string; outcome: string }> | undefined) =>
  (attempts ?? []).filter((attempt) => attempt.outcome !== 'skipped').map((attempt) => [attempt.deployment, attempt.outcome]);

describe('embeddings for a model group', () => {
  it('are routed over the deployments that have an embeddings API, the others skipped, with the deployment in the ledger', async () => {
    const opened = await open({ embed: { deployments: [anthropic('claude', 2), openai('eu', 0), openai('us', 1)] } });
    const answered: string[] = [];
    for (let index = 0; index < 6; index++) {
      const result = await opened.llm.embed([`text ${index}`, `other ${index}`], { model: 'embed' });
      expect(result.vectors).toHaveLength(2);
      answered.push(result.metadata.attempts.at(-1)?.deployment ?? '');
    }
    for (const name of answered) expect(['eu', 'us']).toContain(name);
    expect(fakes[2]!.requests).toHaveLength(0);
    expect(fakes[0]!.requests.length + fakes[1]!.requests.length).toBe(6);
    for (const request of [...fakes[0]!.requests, ...fakes[1]!.requests]) expect(request.path).toBe('/v1/embeddings');
    const rows = await ledger();
    expect(rows.map((row) => [row.operation, row.deployment])).toEqual(answered.map((name) => ['embeddings', name]));
  });

  it('move on from a deployment that answers 429 or 5xx, through the fallback group', async () => {
    const opened = await open({
      embed: { fallbacks: ['embed-safe'], deployments: [openai('eu', 0), openai('us', 1)] },
      'embed-safe': { deployments: [openai('safe', 2)] },
    });
    fakes[0]!.setHandler(() => ({ type: 'error', status: 429, retryAfter: 30 }));
    fakes[1]!.setHandler(() => ({ type: 'error', status: 503 }));
    const result = await opened.llm.embed('hello', { model: 'embed' });
    expect(result.vectors).toHaveLength(1);
    expect(sentTo(result.metadata.attempts)).toEqual(
      expect.arrayContaining([
        ['eu', 'error'],
        ['us', 'error'],
        ['safe', 'success'],
      ]),
    );
    expect((await ledger()).map((row) => row.deployment)).toEqual(['safe']);
  });

  it('fail with the last deployment’s error when every one fails, naming it in the ledger', async () => {
    const opened = await open({ embed: { deployments: [openai('eu', 0), openai('us', 1)] } });
    fakes[0]!.setHandler(() => ({ type: 'error', status: 500 }));
    fakes[1]!.setHandler(() => ({ type: 'error', status: 500 }));
    const error = await opened.llm.embed('hello', { model: 'embed' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'ProviderServerError', status: 500 });
    expect(sentTo(attemptsOf(error)).map(([, outcome]) => outcome)).toEqual(['error', 'error']);
    const rows = await ledger();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ operation: 'embeddings', outcome: 'provider_server_error' });
    expect(['eu', 'us']).toContain(rows[0]?.deployment);
  });

  it('are refused, naming the group, when no deployment has an embeddings API', async () => {
    const opened = await open({ chat: { deployments: [anthropic('claude', 2)] } });
    const error = await opened.llm.embed('hello', { model: 'chat' }).catch((caught: unknown) => caught as Error);
    expect(error).toMatchObject({ code: 'embeddings_unsupported', group: 'chat' });
    expect((error as Error).message).toContain('"chat" has no deployment with an embeddings API (its providers: anthropic)');
    expect(fakes[2]!.requests).toHaveLength(0);
  });
});

describe('embeddings for a model group whose deployments serve different models', () => {
  /** A deployment serving `model`, a known embedding model whose vector length tells its answers apart. */
  const serving = (model: string, name: string, index: number) => ({ ...openai(name, index), model });
  /** Answers the first embeddings request, then 503 to every later one. */
  const answerOnceThenFail = () => {
    let answered = false;
    return () => {
      if (answered) return { type: 'error' as const, status: 503 };
      answered = true;
      return { type: 'answer' as const };
    };
  };
  const embeddingRequests = (index: number) => fakes[index]!.requests.filter((request) => request.path.endsWith('/embeddings')).length;
  // More than one request's worth (2048 inputs), so a call has two batches.
  const inputs = Array.from({ length: 2100 }, (_, index) => `passage ${index}`);

  it('never mixes two models in one call or serves one model’s cached vectors as another’s', async () => {
    const opened = await open(
      {
        embed: { fallbacks: ['embed-safe'], deployments: [serving('all-minilm', 'eu', 0)] },
        'embed-safe': { deployments: [serving('nomic-embed-text', 'safe', 2)] },
      },
      { LLM_CACHE: 'memory', LLM_CACHE_MAX_ENTRIES: '10000', LLM_EMBEDDING_BATCH_CONCURRENCY: '1' },
    );
    // all-minilm answers the first batch, then fails: the call fails rather than take nomic-embed-text's vectors for the rest.
    fakes[0]!.setHandler(answerOnceThenFail());
    const failure = await opened.llm.embed(inputs, { model: 'embed' }).catch((caught: unknown) => caught);
    expect(failure).toMatchObject({ name: 'ProviderServerError', status: 503 });
    expect(embeddingRequests(2)).toBe(0);

    // all-minilm still down: the fallback's model answers the whole call, none of all-minilm's cached vectors mixed in.
    fakes[0]!.setHandler(() => ({ type: 'error', status: 503 }));
    const failedOver = await opened.llm.embed(inputs, { model: 'embed' });
    expect(failedOver).toMatchObject({ model: 'nomic-embed-text', dimensions: 768 });
    expect(new Set(failedOver.vectors.map((vector) => vector.length))).toEqual(new Set([768]));
    expect(embeddingRequests(2)).toBe(2);

    // all-minilm is back: its vectors again (the first call's batch from its cache), never the fallback's cached ones.
    fakes[0]!.setHandler(undefined);
    fakes[0]!.reset();
    const back = await opened.llm.embed(inputs, { model: 'embed' });
    expect(back).toMatchObject({ model: 'all-minilm', dimensions: 384 });
    expect(new Set(back.vectors.map((vector) => vector.length))).toEqual(new Set([384]));
    expect(back.metadata.cachedInputs).toBe(2048);
    expect(embeddingRequests(0)).toBe(1);
    expect(embeddingRequests(2)).toBe(2);
  });

  it('moves a call on to another deployment of the same model mid-call, never to the fallback’s model', async () => {
    const opened = await open(
      {
        embed: { fallbacks: ['embed-safe'], deployments: [serving('all-minilm', 'eu', 0), serving('all-minilm', 'us', 1)] },
        'embed-safe': { deployments: [serving('nomic-embed-text', 'safe', 2)] },
      },
      { LLM_EMBEDDING_BATCH_CONCURRENCY: '1' },
    );
    fakes[0]!.setHandler(answerOnceThenFail());
    fakes[1]!.setHandler(answerOnceThenFail());
    const result = await opened.llm.embed(inputs, { model: 'embed' });
    expect(result).toMatchObject({ model: 'all-minilm', dimensions: 384 });
    expect(new Set(result.vectors.map((vector) => vector.length))).toEqual(new Set([384]));
    expect(embeddingRequests(2)).toBe(0);
  });
});

describe('forwarded Responses calls for a model group', () => {
  it('are routed over the deployments that have the Responses API, whole and streamed, each body carrying its model', async () => {
    const opened = await open({ resp: { deployments: [anthropic('claude', 2), openai('eu', 0), openai('us', 1)] } });
    const answered: string[] = [];
    for (let index = 0; index < 4; index++) {
      const result = await opened.llm.respond({ model: 'resp', input: `hi ${index}`, store: false, stream: index % 2 === 1 });
      await drain(result);
      expect(result.mode).toBe('forwarded');
    }
    expect(fakes[2]!.requests).toHaveLength(0);
    for (const [index, fake] of fakes.slice(0, 2).entries()) {
      for (const request of fake.requests) {
        expect(request.path).toBe('/v1/responses');
        expect((request.body as { model: string }).model).toBe(index === 0 ? 'model-eu' : 'model-us');
        answered.push(index === 0 ? 'eu' : 'us');
      }
    }
    expect(answered).toHaveLength(4);
    const rows = await ledger();
    expect(rows.map((row) => row.operation)).toEqual(Array(4).fill('responses'));
    expect(rows.map((row) => row.deployment).sort()).toEqual([...answered].sort());
    for (const row of rows) expect(row.model).toBe(`model-${row.deployment}`);
  });

  it('move on from a deployment that answers 429 to a sibling, and fail with the right error when all fail', async () => {
    const opened = await open({ resp: { deployments: [openai('eu', 0), openai('us', 1)] } }, { LLM_RATE_LIMIT_MAX_WAIT_MS: '0' });
    fakes[0]!.setHandler(() => ({ type: 'error', status: 429, retryAfter: 30 }));
    const results: ResponsesResult[] = [];
    // Calls until the random pick has sent eu one (at most 30: a miss every time is a chance of 1 in 2^30).
    for (let index = 0; index < 30 && (index < 3 || fakes[0]!.requests.length === 0); index++) {
      results.push(await opened.llm.respond({ model: 'resp', input: 'hi', store: false }));
    }
    expect(fakes[0]!.requests).toHaveLength(1); // throttled: out of routing until its Retry-After
    expect(fakes[1]!.requests).toHaveLength(results.length);
    expect((await ledger()).map((row) => row.deployment)).toEqual(results.map(() => 'us'));

    fakes[1]!.setHandler(() => ({ type: 'error', status: 500 }));
    const error = await opened.llm.respond({ model: 'resp', input: 'hi', store: false }).catch((caught: unknown) => caught);
    // eu is throttled by the call above and us fails: no deployment can answer now, and the caller is
    // told when one may. (Had both been sent and failed on this call, it would end with the last one's error.)
    expect(error).toMatchObject({ code: 'no_deployment_available', group: 'resp' });
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(1000);
    const tried = sentTo(attemptsOf(error));
    expect(tried).toContainEqual(['us', 'error']);
    expect(tried.every(([, outcome]) => outcome === 'error')).toBe(true);
    // The ledger row names the last deployment the call tried.
    const last = tried.at(-1)?.[0];
    expect((await ledger()).at(-1)).toMatchObject({ operation: 'responses', deployment: last, outcome: 'no_deployment_available' });
  });

  it('are refused, naming the group, when no deployment has the Responses API', async () => {
    const opened = await open({ chat: { deployments: [anthropic('claude', 2)] } });
    const error = await opened.llm.respond({ model: 'chat', input: 'hi' }).catch((caught: unknown) => caught as Error);
    expect(error).toMatchObject({ code: 'llm_unsupported_params', group: 'chat', param: 'model' });
    expect((error as Error).message).toContain('"chat" has no deployment with the Responses API (its providers: anthropic)');
    expect(fakes[2]!.requests).toHaveLength(0);
  });
});

describe('groundwork serve with model groups', () => {
  it('routes /v1/embeddings and /v1/responses for a group, and answers 400 for a group that cannot', async () => {
    const opened = await open({
      embed: { deployments: [anthropic('claude', 2), openai('eu', 0)] },
      resp: { deployments: [openai('us', 1)] },
      chat: { deployments: [anthropic('claude', 2)] },
    });
    server = createServer(createServiceBackend(opened), opened.config.server, { logger: silentLogger(), metrics: opened.metrics });
    const { port } = await server.listen();
    const client = new OpenAI({ apiKey: SERVE_KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const embedded = await client.embeddings.create({ model: 'embed', input: ['one', 'two'] });
    expect(embedded.data).toHaveLength(2);
    expect(fakes[0]!.requests.map((request) => request.path)).toEqual(['/v1/embeddings']);
    const response = await client.responses.create({ model: 'resp', input: 'hi', store: false });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(fakes[1]!.requests.map((request) => (request.body as { model: string }).model)).toEqual(['model-us']);
    for (const refused of [
      client.embeddings.create({ model: 'chat', input: 'one' }),
      client.responses.create({ model: 'chat', input: 'hi', store: false }),
    ]) {
      await expect(refused).rejects.toMatchObject({ status: 400 });
    }
    expect(fakes[2]!.requests).toHaveLength(0);
  });

  it('refuses, naming the field, a group call that continues state unless one deployment can take it', async () => {
    const opened = await open({
      // Two deployments with the Responses API (one in a fallback group): another one would be another account.
      spread: { fallbacks: ['spread-safe'], deployments: [openai('eu', 0)] },
      'spread-safe': { deployments: [openai('us', 1)] },
      // One deployment with it, beside one without: continuations are safe there.
      single: { deployments: [anthropic('claude', 2), openai('eu', 0)] },
    });
    server = createServer(createServiceBackend(opened), opened.config.server, { logger: silentLogger(), metrics: opened.metrics });
    const { port } = await server.listen();
    const client = new OpenAI({ apiKey: SERVE_KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const fields = [
      ['previous_response_id', { previous_response_id: 'resp_earlier' }],
      ['conversation', { conversation: 'conv_earlier' }],
    ] as const;
    for (const [field, extra] of fields) {
      for (const stream of [false, true]) {
        const refused = await client.responses
          .create({ model: 'spread', input: 'hi', ...extra, stream })
          .catch((caught: unknown) => caught);
        expect(refused, field).toMatchObject({ status: 400, code: 'llm_unsupported_params', param: field });
        expect((refused as Error).message).toContain(`${field} cannot be used with the model group "spread"`);
      }
    }
    expect(fakes[0]!.requests).toHaveLength(0);
    expect(fakes[1]!.requests).toHaveLength(0);
    // Without those fields, or with a group of one such deployment, the call goes through.
    await client.responses.create({ model: 'spread', input: 'hi', background: false, store: false });
    for (const [field, extra] of fields) {
      const answered = await client.responses.create({ model: 'single', input: 'hi', ...extra });
      expect(answered.id, field).toMatch(/^resp_/);
    }
    expect(fakes[0]!.requests.filter((request) => request.path === '/v1/responses')).toHaveLength(3);
    expect(fakes[2]!.requests).toHaveLength(0);
  });

  it('makes a background response on any deployment of a group, then polls, cancels and deletes it where it was made', async () => {
    const opened = await open(
      { spread: { fallbacks: ['spread-safe'], deployments: [openai('eu', 0)] }, 'spread-safe': { deployments: [openai('us', 1)] } },
      // The primary provider is the eu deployment's own upstream: one upstream, asked once.
      { OPENAI_API_KEY: KEYS[0]!, OPENAI_BASE_URL: fakes[0]!.openaiBaseUrl },
    );
    server = createServer(createServiceBackend(opened), opened.config.server, { logger: silentLogger(), metrics: opened.metrics });
    const { port } = await server.listen();
    const client = new OpenAI({ apiKey: SERVE_KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const aboutStored = storedRequests;
    // The eu deployment fails: the fallback group's us deployment makes it, and keeps it running until cancelled.
    fakes[0]!.enqueue({ type: 'error', status: 500 });
    fakes[1]!.responses.settings.manual = true;
    const queued = await client.responses.create({ model: 'spread', input: 'a long job', background: true });
    expect(queued).toMatchObject({ status: 'queued', background: true });
    expect(queued.id).toMatch(/^resp_b_/);
    expect((await client.responses.retrieve(queued.id)).status).toBe('in_progress');
    expect((await client.responses.cancel(queued.id)).status).toBe('cancelled');
    expect((await client.responses.retrieve(queued.id)).status).toBe('cancelled');
    await client.responses.delete(queued.id);
    // Asked where it was made, and nowhere else, until it was deleted; then every deployment answers 404.
    const missing = await client.responses.retrieve(queued.id).catch((caught: unknown) => caught);
    expect(missing).toMatchObject({ status: 404, code: 'response_not_found' });
    expect((missing as Error).message).toContain('at any upstream asked (openai, openai deployment spread-safe/us).');
    expect(aboutStored(fakes[1]!)).toEqual([
      `GET /v1/responses/${queued.id}`,
      `POST /v1/responses/${queued.id}/cancel`,
      `GET /v1/responses/${queued.id}`,
      `DELETE /v1/responses/${queued.id}`,
      `GET /v1/responses/${queued.id}`,
    ]);
    expect(aboutStored(fakes[0]!)).toEqual([`GET /v1/responses/${queued.id}`]);
  });

  it('finds a background response made on another deployment of the group by a process that does not remember it', async () => {
    const opened = await open(
      { spread: { deployments: [openai('eu', 0), openai('us', 1)] } },
      { OPENAI_API_KEY: KEYS[0]!, OPENAI_BASE_URL: fakes[0]!.openaiBaseUrl },
    );
    server = createServer(createServiceBackend(opened), opened.config.server, { logger: silentLogger(), metrics: opened.metrics });
    const { port } = await server.listen();
    const client = new OpenAI({ apiKey: SERVE_KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    // Made at the us deployment's account by another process of the service.
    const direct = new OpenAI({ apiKey: KEYS[1]!, baseURL: fakes[1]!.openaiBaseUrl, maxRetries: 0 });
    const queued = await direct.responses.create({ model: 'model-us', input: 'a long job', background: true });
    expect((await client.responses.retrieve(queued.id)).status).toBe('in_progress');
    expect((await client.responses.retrieve(queued.id)).status).toBe('completed');
    const refused = await client.responses.cancel(queued.id).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ status: 400 });
    expect((refused as Error).message).toContain('Cannot cancel a response that is already completed.');
    // Asked of the eu deployment's account once, then remembered at the us deployment.
    const paths = (fake: FakeProviderServer) =>
      fake.requests.filter((request) => request.path !== '/v1/responses').map((request) => request.path);
    expect(paths(fakes[0]!)).toEqual([`/v1/responses/${queued.id}`]);
    expect(paths(fakes[1]!)).toEqual([`/v1/responses/${queued.id}`, `/v1/responses/${queued.id}`, `/v1/responses/${queued.id}/cancel`]);
  });

  it('retrieves a response a group’s deployment made, asking each distinct upstream once, and names those asked when none has it', async () => {
    const opened = await open(
      { resp: { deployments: [openai('us', 1)] }, twin: { deployments: [openai('eu', 0)] } },
      // The primary provider is the eu deployment's own upstream (the same endpoint and key): one upstream, asked once.
      { OPENAI_API_KEY: KEYS[0]!, OPENAI_BASE_URL: fakes[0]!.openaiBaseUrl },
    );
    server = createServer(createServiceBackend(opened), opened.config.server, { logger: silentLogger(), metrics: opened.metrics });
    const { port } = await server.listen();
    const client = new OpenAI({ apiKey: SERVE_KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const gets = (fake: FakeProviderServer) => fake.requests.filter((request) => request.method === 'GET').map((request) => request.path);
    // Made through the group: the deployment that made it is asked, and only it.
    fakes[1]!.enqueue({ type: 'answer', content: 'from us' });
    const created = await client.responses.create({ model: 'resp', input: 'hi' });
    expect((await client.responses.retrieve(created.id)).output_text).toBe('from us');
    expect(gets(fakes[0]!)).toEqual([]);
    // Made at the us deployment's account by another process: found by asking each upstream in turn.
    fakes[1]!.enqueue({ type: 'answer', content: 'from another process' });
    const direct = new OpenAI({ apiKey: KEYS[1]!, baseURL: fakes[1]!.openaiBaseUrl, maxRetries: 0 });
    const elsewhere = await direct.responses.create({ model: 'model-us', input: 'hi' });
    expect((await client.responses.retrieve(elsewhere.id)).output_text).toBe('from another process');
    const missing = await client.responses.retrieve('resp_nowhere').catch((caught: unknown) => caught);
    expect(missing).toMatchObject({ status: 404, code: 'response_not_found' });
    expect((missing as Error).message).toContain('at any upstream asked (openai, openai deployment resp/us).');
    for (const key of KEYS) expect((missing as Error).message).not.toContain(key);
    expect(gets(fakes[0]!)).toEqual([`/v1/responses/${elsewhere.id}`, '/v1/responses/resp_nowhere']);
    expect(gets(fakes[1]!)).toEqual([`/v1/responses/${created.id}`, `/v1/responses/${elsewhere.id}`, '/v1/responses/resp_nowhere']);
  });

  it('settles a virtual key’s forwarded call for a group at the price of the deployment that answered', async () => {
    const opened = await open(
      { resp: { deployments: [openai('us', 1)] } },
      { GROUNDWORK_VIRTUAL_KEYS: 'true', LLM_PRICES: '{"model-us":{"input":100,"output":1000}}', TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '50' },
    );
    const { client, spent } = await servedKey(opened, 'group-key');
    fakes[1]!.enqueue({ type: 'answer', content: 'Hallo', usage: { promptTokens: 9, completionTokens: 3 } });
    await client.responses.create({ model: 'resp', input: 'Hello', store: false });
    // 9 input tokens at $0.1 and 3 output tokens at $1 per thousand: model-us's price, not the group name's (none).
    expect(await spent()).toEqual({ spentUsd: expect.closeTo(0.0039, 9), reservedUsd: 0 });
    fakes[1]!.enqueue({ type: 'answer', content: 'Tag', chunks: 2, usage: { promptTokens: 4, completionTokens: 6 } });
    await client.responses.stream({ model: 'resp', input: 'Day', store: false }).finalResponse();
    expect(await spent()).toEqual({ spentUsd: expect.closeTo(0.0039 + 0.0064, 9), reservedUsd: 0 });
  });

  it('settles a virtual key’s forwarded call to an Azure deployment at the price of the model Azure reports, as the ledger does', async () => {
    const opened = await open(
      {
        resp: {
          deployments: [{ name: 'az', provider: 'azure', model: 'prod-deploy', endpoint: fakes[1]!.azureEndpoint, apiKeyEnv: 'KEY_B' }],
        },
      },
      {
        GROUNDWORK_VIRTUAL_KEYS: 'true',
        // A key is admitted only to a priced deployment: its name is priced (here low) for the reservation.
        LLM_PRICES: '{"prod-deploy":{"input":1,"output":1},"model-behind":{"input":100,"output":1000}}',
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '50',
      },
    );
    const { client, spent } = await servedKey(opened, 'azure-key');
    const ledgerCost = async () => {
      await opened.llm.flush();
      return opened.db.selectFrom('llm_usage').select(['deployment', 'cost_usd']).orderBy('id').execute();
    };
    // Azure reports the model behind the deployment: the ledger prices by it, and so must the budget.
    fakes[1]!.enqueue({ type: 'answer', content: 'Hallo', model: 'model-behind', usage: { promptTokens: 9, completionTokens: 3 } });
    await client.responses.create({ model: 'resp', input: 'Hello', store: false });
    expect(fakes[1]!.requests.at(-1)?.path).toBe('/openai/v1/responses');
    expect(await spent()).toEqual({ spentUsd: expect.closeTo(0.0039, 9), reservedUsd: 0 });
    fakes[1]!.enqueue({
      type: 'answer',
      content: 'Tag',
      chunks: 2,
      model: 'model-behind',
      usage: { promptTokens: 4, completionTokens: 6 },
    });
    await client.responses.stream({ model: 'resp', input: 'Day', store: false }).finalResponse();
    expect(await spent()).toEqual({ spentUsd: expect.closeTo(0.0039 + 0.0064, 9), reservedUsd: 0 });
    // The budget and the ledger agree.
    const rows = await ledgerCost();
    expect(rows.map((row) => row.deployment)).toEqual(['az', 'az']);
    expect(rows.map((row) => Number(row.cost_usd))).toEqual([expect.closeTo(0.0039, 9), expect.closeTo(0.0064, 9)]);
  });
});
