import OpenAI, { APIError } from 'openai';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';
import { createServer, type GroundworkServer } from './create-server.js';
import { createServiceBackend } from './infrastructure-backend.js';
import { serviceTenants } from './service-tenants.js';

/** The key the stack's `serve` accepts. */
export const STACK_API_KEY = 'gw-compat-key-8e2a';

/** The whole service: fake provider ← Groundwork facade (SQLite in memory) ← `groundwork serve` ← a client. */
export interface ServiceStack {
  fake: FakeProviderServer;
  infrastructure: Infrastructure;
  server: GroundworkServer;
  /** `http://127.0.0.1:PORT/v1`, the base URL OpenAI-compatible clients take. */
  baseUrl: string;
  /** The official OpenAI SDK pointed at `serve`, no retries. */
  client: OpenAI;
  /** The chat bodies the upstream received, in order. */
  upstreamBodies(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Starts the fake provider and a real `serve` over the real facade in front of it; `env` overrides the defaults;
 * `serverLogger` is `serve`'s, `infrastructureLogger` the facade's (where the call path logs).
 */
export async function startServiceStack(
  env: Record<string, string> | ((fake: FakeProviderServer) => Record<string, string>) = {},
  serverLogger: Logger = silentLogger(),
  infrastructureLogger: Logger = silentLogger(),
): Promise<ServiceStack> {
  const fake = await startFakeProviderServer();
  const overrides = typeof env === 'function' ? env(fake) : env;
  const infrastructure = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-upstream-compat-secret',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_MAX_ATTEMPTS: '1',
      GROUNDWORK_API_KEYS: STACK_API_KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      ...overrides,
    },
    envFile: false,
    logger: infrastructureLogger,
  });
  const backend = createServiceBackend(infrastructure);
  await backend.migrate?.();
  const server = createServer(backend, infrastructure.config.server, { logger: serverLogger, metrics: infrastructure.metrics });
  const address = await server.listen();
  const baseUrl = `http://127.0.0.1:${address.port}/v1`;
  return {
    fake,
    infrastructure,
    server,
    baseUrl,
    client: new OpenAI({ apiKey: STACK_API_KEY, baseURL: baseUrl, maxRetries: 0 }),
    upstreamBodies: () =>
      fake.requests
        .filter((request) => request.wire === 'openai' && request.path.endsWith('/chat/completions'))
        .map((request) => request.body as Record<string, unknown>),
    async close() {
      await server.close();
      await fake.close();
    },
  };
}

/**
 * Serves `infrastructure` as `groundwork serve` does on an ephemeral port, its migrations run first;
 * with `virtualKeys`, callers present its tenants' virtual keys. Close the server before the infrastructure.
 */
export async function serveInfrastructure<DB>(
  infrastructure: Infrastructure<DB>,
  options: { virtualKeys?: boolean } = {},
): Promise<{ server: GroundworkServer; baseUrl: string }> {
  const backend = createServiceBackend(infrastructure);
  await backend.migrate?.();
  const server = createServer(backend, infrastructure.config.server, {
    logger: silentLogger(),
    metrics: infrastructure.metrics,
    ...(options.virtualKeys === true ? { tenants: serviceTenants(infrastructure.tenants) } : {}),
  });
  const address = await server.listen();
  return { server, baseUrl: `http://127.0.0.1:${address.port}/v1` };
}

/** The SDK's error `promise` was refused with; fails the test when it answered, or failed otherwise. */
export async function refusal(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the call to be refused');
}
