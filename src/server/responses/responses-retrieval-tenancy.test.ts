import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import { storedRequests } from '../../testing/stored-requests.test-helpers.js';
import type { createServer } from '../create-server.js';
import { serveInfrastructure } from '../service-stack.test-helpers.js';

/*
 * GET /v1/responses/{id} with virtual keys over HTTP, in front of two model groups whose
 * deployments are separate upstreams (each a fake provider server with ids of its own) and a
 * primary provider: a key asks only the upstreams a call of its own could reach.
 */

const ALPHA_KEY = 'sk-alpha-deployment-4e1b9c';
const BETA_KEY = 'sk-beta-deployment-7d2a0f';
let primary: FakeProviderServer;
let alpha: FakeProviderServer;
let beta: FakeProviderServer;
let dir: string;
let infra: Infrastructure;
let server: Awaited<ReturnType<typeof createServer>>;
let baseURL: string;

beforeAll(async () => {
  primary = await startFakeProviderServer({ responseIdPrefix: 'resp_primary_' });
  alpha = await startFakeProviderServer({ apiKeys: [ALPHA_KEY], responseIdPrefix: 'resp_alpha_' });
  beta = await startFakeProviderServer({ apiKeys: [BETA_KEY], responseIdPrefix: 'resp_beta_' });
  dir = await mkdtemp(join(tmpdir(), 'gw-retrieval-tenancy-'));
  const routes = join(dir, 'routes.json');
  const deployment = (name: string, fake: FakeProviderServer, apiKeyEnv: string) => ({
    name,
    provider: 'openai',
    model: `${name}-model`,
    baseUrl: fake.openaiBaseUrl,
    apiKeyEnv,
  });
  await writeFile(
    routes,
    JSON.stringify({
      groups: {
        alpha: { deployments: [deployment('alpha-1', alpha, 'ALPHA_KEY')] },
        beta: { deployments: [deployment('beta-1', beta, 'BETA_KEY')] },
      },
    }),
  );
  infra = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-primary',
      OPENAI_BASE_URL: primary.openaiBaseUrl,
      LLM_MAX_ATTEMPTS: '1',
      GROUNDWORK_ROUTES: routes,
      GROUNDWORK_VIRTUAL_KEYS: 'true',
      ALPHA_KEY,
      BETA_KEY,
    },
    envFile: false,
    logger: silentLogger(),
  });
  ({ server, baseUrl: baseURL } = await serveInfrastructure(infra, { virtualKeys: true }));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await infra?.close();
  await Promise.all([primary?.close(), alpha?.close(), beta?.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function keyed(name: string, allowedModels?: string[]): Promise<OpenAI> {
  const { plainKey } = await infra.tenants.repository.createKey({ name, ...(allowedModels === undefined ? {} : { allowedModels }) });
  return new OpenAI({ apiKey: plainKey.reveal(), baseURL, maxRetries: 0 });
}

/** The retrievals an upstream received. */
const gets = (fake: FakeProviderServer) => fake.requests.filter((request) => request.method === 'GET').map((request) => request.path);

/** A response made at the beta deployment directly, as another replica of the service would have. */
async function madeAtBeta(): Promise<string> {
  const direct = new OpenAI({ apiKey: BETA_KEY, baseURL: beta.openaiBaseUrl, maxRetries: 0 });
  return (await direct.responses.create({ model: 'beta-1-model', input: 'Hi' })).id;
}

describe('retrieving a stored response with a virtual key', () => {
  it('asks only the upstreams of the model groups the key may call', async () => {
    const id = await madeAtBeta();
    expect(id).toMatch(/^resp_beta_/);
    const restricted = await keyed('retrieval-alpha-only', ['alpha']);
    const missing = (await restricted.responses.retrieve(id).catch((caught: unknown) => caught)) as APIError;
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.message).toContain('any upstream asked (openai deployment alpha/alpha-1)');
    expect(gets(alpha)).toEqual([`/v1/responses/${id}`]);
    expect(gets(beta)).toEqual([]);
    expect(gets(primary)).toEqual([]);
    // A key that may call beta, or any model, finds it there.
    const betaKey = await keyed('retrieval-beta', ['beta']);
    expect((await betaKey.responses.retrieve(id)).id).toBe(id);
    expect(gets(primary)).toEqual([]);
    const open = await keyed('retrieval-any');
    expect((await open.responses.retrieve(id)).id).toBe(id);
    expect(gets(beta)).toEqual([`/v1/responses/${id}`, `/v1/responses/${id}`]);
  });

  it('neither asks nor forgets a remembered upstream the key may not reach', async () => {
    // Made through the service's client: it remembers the beta deployment made the response.
    const made = await infra.llm.respond({ model: 'beta', input: 'Hi' });
    if (made.stream) throw new Error('expected a whole answer');
    const id = made.response.id;
    const before = { primary: gets(primary).length, alpha: gets(alpha).length, beta: gets(beta).length };
    const restricted = await keyed('retrieval-alpha-remembered', ['alpha']);
    expect(await restricted.responses.retrieve(id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gets(beta).length).toBe(before.beta);
    expect(gets(alpha).slice(before.alpha)).toEqual([`/v1/responses/${id}`]);
    // Still remembered: a key that may reach every upstream goes straight to beta.
    const open = await keyed('retrieval-any-remembered');
    expect((await open.responses.retrieve(id)).id).toBe(id);
    expect(gets(beta).slice(before.beta)).toEqual([`/v1/responses/${id}`]);
    expect(gets(primary).length).toBe(before.primary);
    expect(gets(alpha).length).toBe(before.alpha + 1);
  });

  it("refuses a disabled team's keys, asking no upstream", async () => {
    const id = await madeAtBeta();
    const team = await infra.tenants.repository.createTeam({ name: 'retrieval-disabled-team', enabled: false });
    const { plainKey } = await infra.tenants.repository.createKey({ name: 'retrieval-disabled-member', team: team.name });
    const member = new OpenAI({ apiKey: plainKey.reveal(), baseURL, maxRetries: 0 });
    const asked = gets(primary).length + gets(alpha).length + gets(beta).length;
    const refused = (await member.responses.retrieve(id).catch((caught: unknown) => caught)) as APIError;
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(refused.message).toContain("the key's team is disabled");
    expect(gets(primary).length + gets(alpha).length + gets(beta).length).toBe(asked);
  });

  it('asks the primary provider for a key whose models name no group', async () => {
    const restricted = await keyed('retrieval-direct', ['gpt-4o-mini']);
    const before = gets(alpha).length + gets(beta).length;
    const missing = (await restricted.responses.retrieve('resp_nowhere').catch((caught: unknown) => caught)) as APIError;
    expect(missing.message).toContain('any upstream asked (openai)');
    expect(gets(primary)).toEqual(['/v1/responses/resp_nowhere']);
    expect(gets(alpha).length + gets(beta).length).toBe(before);
  });

  it('answers 404 without asking anything for a key that may reach no upstream keeping responses', async () => {
    const restricted = await keyed('retrieval-nothing', []);
    const asked = gets(primary).length + gets(alpha).length + gets(beta).length;
    const missing = (await restricted.responses.retrieve('resp_nowhere').catch((caught: unknown) => caught)) as APIError;
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.message).toContain('none that this key may reach keeps responses');
    expect(gets(primary).length + gets(alpha).length + gets(beta).length).toBe(asked);
  });
});

describe('cancelling, deleting and listing the input items of a stored response with a virtual key', () => {
  /** The three operations on `id` through `client`, each settled. */
  const operations = (client: OpenAI, id: string) =>
    Promise.all([
      client.responses.cancel(id).catch((caught: unknown) => caught),
      client.responses.inputItems.list(id).catch((caught: unknown) => caught),
      client.responses.delete(id).catch((caught: unknown) => caught),
    ]);
  const aboutStored = storedRequests;
  const counts = () => [primary, alpha, beta].map((fake) => aboutStored(fake).length);

  it('asks only the upstreams of the model groups the key may call', async () => {
    const id = await madeAtBeta();
    const [primaryBefore, alphaBefore, betaBefore] = counts();
    const restricted = await keyed('operations-alpha-only', ['alpha']);
    for (const missing of await operations(restricted, id)) {
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
      expect((missing as APIError).message).toContain('any upstream asked (openai deployment alpha/alpha-1)');
    }
    expect(aboutStored(alpha).slice(alphaBefore).sort()).toEqual(
      // A cancel or delete is sent only where the response is found by retrieval.
      [`GET /v1/responses/${id}`, `GET /v1/responses/${id}/input_items`, `GET /v1/responses/${id}`].sort(),
    );
    expect(counts()).toEqual([primaryBefore, alphaBefore! + 3, betaBefore]);
    // A key that may call beta reaches it there, and nothing else.
    const betaKey = await keyed('operations-beta', ['beta']);
    expect((await betaKey.responses.inputItems.list(id)).data).toHaveLength(1);
    await betaKey.responses.delete(id);
    expect(aboutStored(beta).slice(betaBefore)).toEqual([`GET /v1/responses/${id}/input_items`, `DELETE /v1/responses/${id}`]);
    expect(counts()).toEqual([primaryBefore, alphaBefore! + 3, betaBefore! + 2]);
  });

  it("refuses a disabled team's keys, asking no upstream", async () => {
    const id = await madeAtBeta();
    const team = await infra.tenants.repository.createTeam({ name: 'operations-disabled-team', enabled: false });
    const { plainKey } = await infra.tenants.repository.createKey({ name: 'operations-disabled-member', team: team.name });
    const member = new OpenAI({ apiKey: plainKey.reveal(), baseURL, maxRetries: 0 });
    const before = counts();
    for (const refused of await operations(member, id)) {
      expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((refused as APIError).message).toContain("the key's team is disabled");
    }
    expect(counts()).toEqual(before);
  });
});
