import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, redisUrl } from '../test/services.js';
import { Secret } from './config/secret.js';
import { createInfrastructure } from './create-infrastructure.js';
import { createDashboard } from './dashboard/create-dashboard.js';
import { DashboardGuard } from './dashboard/dashboard-guard.js';
import type { Infrastructure } from './infrastructure.js';
import { createLogger } from './observability/logger.js';
import { FakeProviderServer } from './testing/fake-provider-server.js';

/*
 * Every object Groundwork hands out, inspected, serialised and logged at every level, with a
 * canary in each secret: the API key, the database password and the Redis password.
 */
const KEY = 'sk-inspect-canary-7d1e4b9a2c5f8e3d';
const DB_PASSWORD = 'pg-canary-9b3e51d7';
const REDIS_PASSWORD = 'redis-canary-2c8f64a1';
const ADMIN_KEY = 'gw-admin-canary-4e7a0c9d';
const CANARIES = [KEY, DB_PASSWORD, REDIS_PASSWORD, ADMIN_KEY];

const withPassword = (url: string, user: string, password: string): string => {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
};

let fake: FakeProviderServer;
let infra: Infrastructure;
const lines: string[] = [];

beforeAll(async () => {
  fake = await new FakeProviderServer().start();
  const env = {
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    // The test server trusts local connections, so the password is carried but not needed.
    DATABASE_URL: withPassword(postgresUrl(), 'postgres', DB_PASSWORD),
    // Redis refuses the password (it has none set): the client still exists and holds it.
    REDIS_URL: withPassword(redisUrl(), 'default', REDIS_PASSWORD),
    LOG_LEVEL: 'trace',
  };
  const logger = createLogger({ level: 'trace', format: 'json' }, { destination: { write: (line: string) => void lines.push(line) } });
  infra = await createInfrastructure({ env, logger });
}, 30_000);

afterAll(async () => {
  await infra?.close();
  await fake.close();
});

function expectClean(label: string, text: string): void {
  for (const canary of CANARIES) expect(text.includes(canary), `${label} shows ${canary}`).toBe(false);
}

describe('secrets in the objects Groundwork hands out', () => {
  it('appear in no inspect() or JSON.stringify() of any of them', async () => {
    await infra
      .executePrompt({ name: 'p', version: '1', render: () => [{ role: 'user', content: 'hi' }] } as never, {} as never)
      .catch(() => undefined);
    // An upstream that echoes the key in its error body: the typed error and its cause must not show it.
    const adapter = infra.getLlmClient().adapter;
    fake.enqueue({ type: 'error', status: 401, message: `Incorrect API key provided: ${KEY}` });
    const upstreamError: unknown = await adapter
      .complete({ model: '', messages: [{ role: 'user', content: 'hi' }] }, new AbortController().signal)
      .catch((error: unknown) => error);
    expect(upstreamError).toMatchObject({ name: 'AuthenticationError' });
    // A forwarded Responses call whose upstream echoes the key in its error, and one that succeeds.
    fake.enqueue({ type: 'error', status: 401, message: `Incorrect API key provided: ${KEY}.` });
    const respondError = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' }).catch((error: unknown) => error);
    expect(respondError).toBeInstanceOf(Error);
    const responded = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi', store: false });
    // A retrieval of an id no upstream has (its error names the upstreams asked), and one whose upstream echoes the key.
    const retrieveMissing = await infra.llm.retrieveResponse('resp_unknown').catch((error: unknown) => error);
    expect(retrieveMissing).toMatchObject({ name: 'ResponseNotFoundError', asked: ['openai'] });
    fake.enqueue({ type: 'error', status: 401, message: `Incorrect API key provided: ${KEY}.` });
    const retrieveError = await infra.llm.retrieveResponse('resp_unknown').catch((error: unknown) => error);
    expect(retrieveError).toMatchObject({ name: 'AuthenticationError' });
    const objects: Record<string, unknown> = {
      adapter,
      upstreamError,
      respondError,
      responded,
      retrieveMissing,
      retrieveError,
      infra,
      config: infra.config,
      redis: infra.redis,
      database: infra.database,
      db: infra.db,
      llm: infra.llm,
      pipeline: infra.pipeline,
      metrics: infra.metrics,
      logger: infra.logger,
      clock: infra.clock,
      llmClient: infra.getLlmClient(),
      session: infra.getDatabaseSession(),
      health: await infra.health({ deep: true }),
      validation: await infra.validateEnvironment(),
      dashboard: createDashboard(infra, { adminKey: new Secret('GROUNDWORK_ADMIN_KEY', ADMIN_KEY) }),
      dashboardGuard: new DashboardGuard(createDashboard(infra, { adminKey: new Secret('GROUNDWORK_ADMIN_KEY', ADMIN_KEY) }), '0.0.0.0'),
    };
    for (const [label, value] of Object.entries(objects)) {
      expectClean(`inspect(${label})`, inspect(value, { depth: 12, showHidden: true, getters: true }));
      expectClean(`inspect(${label}) default`, inspect(value));
      let json = '';
      try {
        json = JSON.stringify(value) ?? '';
      } catch (error) {
        json = String(error);
      }
      expectClean(`JSON.stringify(${label})`, json);
    }
  }, 30_000);

  it('appear in no log line, at any level', () => {
    expect(lines.length).toBeGreaterThan(0);
    expectClean('logs', lines.join('\n'));
  });
});

/*
 * Gemini and Bedrock credentials: the Gemini key, the AWS secret access key and session token,
 * through a failing call (the provider echoes them in its error), inspected and logged.
 */
describe.each([
  ['gemini', 'AIza-gemini-canary-4f8e2a91', (url: string, secret: string) => ({ GEMINI_API_KEY: secret, GEMINI_BASE_URL: url })],
  [
    'bedrock',
    'aws-secret-canary-6b1d93e7',
    (url: string, secret: string) => ({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIACANARYTEST',
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: `${secret}-session`,
      BEDROCK_BASE_URL: url,
    }),
  ],
] as const)('secrets of the %s provider', (provider, secret, env) => {
  it('appear in no error, inspect() or log line', async () => {
    const providerLines: string[] = [];
    const server = await new FakeProviderServer().start();
    const logger = createLogger(
      { level: 'trace', format: 'json' },
      { destination: { write: (line: string) => void providerLines.push(line) } },
    );
    const providerInfra = await createInfrastructure({
      env: {
        LLM_PROVIDER: provider,
        DATABASE_URL: 'sqlite::memory:',
        LLM_LEDGER: 'false',
        LLM_MAX_ATTEMPTS: '1',
        ...env(server.url, secret),
      },
      envFile: false,
      logger,
    });
    try {
      server.enqueue({ type: 'error', status: 400, message: `bad request from key ${secret}` });
      const error = await providerInfra
        .getLlmClient()
        .complete({ messages: [{ role: 'user', content: 'hi' }] })
        .then(
          () => undefined,
          (failure: unknown) => failure,
        );
      expect(error).toBeDefined();
      const texts = [
        inspect(error, { depth: 12, showHidden: true }),
        JSON.stringify(error),
        inspect(providerInfra.config, { depth: 12, showHidden: true, getters: true }),
        JSON.stringify(providerInfra.config),
        inspect(providerInfra.getLlmClient(), { depth: 12, showHidden: true }),
        inspect(await providerInfra.validateEnvironment(), { depth: 12 }),
        providerLines.join('\n'),
      ];
      for (const text of texts) {
        expect(text.includes(secret), text.slice(Math.max(0, text.indexOf(secret) - 600), text.indexOf(secret) + 100)).toBe(false);
      }
    } finally {
      await providerInfra.close();
      await server.close();
    }
  }, 30_000);
});

/* A password given as a query parameter of the database URL (`?password=`, `?sslpassword=`), not in its user part. */
describe('a password in the database URL’s query', () => {
  it('appears in no inspect(), JSON.stringify(), health report or log line', async () => {
    const password = 'pg-query-canary-3a7c19e5';
    const sslPassword = 'pg-sslpassword-canary-b04d';
    const queryLines: string[] = [];
    const logger = createLogger(
      { level: 'trace', format: 'json' },
      { destination: { write: (line: string) => void queryLines.push(line) } },
    );
    const url = new URL(postgresUrl());
    url.searchParams.set('password', password);
    url.searchParams.set('sslpassword', sslPassword);
    const queryInfra = await createInfrastructure({
      env: { DATABASE_URL: url.toString(), LLM_LEDGER: 'false', LOG_LEVEL: 'trace' },
      envFile: false,
      logger,
    });
    try {
      const health = await queryInfra.health({ deep: true });
      logger.info(`connected to ${url.toString()}`);
      const texts = [
        inspect(queryInfra.config, { depth: 12, showHidden: true, getters: true }),
        JSON.stringify(queryInfra.config),
        inspect(queryInfra.database, { depth: 12, showHidden: true }),
        JSON.stringify(health),
        inspect(await queryInfra.validateEnvironment(), { depth: 12 }),
        queryLines.join('\n'),
      ];
      for (const text of texts) for (const canary of [password, sslPassword]) expect(text).not.toContain(canary);
      expect(queryInfra.config.database.displayUrl).toContain('password=***');
    } finally {
      await queryInfra.close();
    }
  }, 30_000);
});
