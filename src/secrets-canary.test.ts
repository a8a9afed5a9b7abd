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
    const objects: Record<string, unknown> = {
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
