import OpenAI from 'openai';
import type { ServerConfig } from '../config/app-config.js';
import { Secret } from '../config/secret.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { AdminApi } from './admin-api.js';
import { createServer, type GroundworkServer } from './create-server.js';
import { TestServiceBackend } from './service-backend.test-helpers.js';
import type { ServiceTenants } from './service-tenants.js';

/** The key test servers accept unless told otherwise. */
export const TEST_API_KEY = 'gw-test-key-5f1c2a9e7b';

/** A server under test on an ephemeral port, its backend, a client and the log lines it wrote. */
export interface TestServer {
  server: GroundworkServer;
  backend: TestServiceBackend;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The official OpenAI SDK pointed at the server with {@link TEST_API_KEY}, no retries. */
  client: OpenAI;
  /** Every log line, as parsed JSON. */
  logs: Array<Record<string, unknown>>;
  /** The raw log text. */
  logText(): string;
  close(): Promise<void>;
}

/** Starts a real server over a {@link TestServiceBackend}; settings override the test defaults. */
export async function startTestServer(
  options: {
    config?: Partial<ServerConfig>;
    apiKeys?: string[];
    backend?: TestServiceBackend;
    tenants?: ServiceTenants;
    admin?: AdminApi;
    /** `createServer`'s own metrics; by default it records into the backend's. */
    metrics?: GroundworkMetrics;
  } = {},
): Promise<TestServer> {
  const backend = options.backend ?? new TestServiceBackend();
  const keys = options.apiKeys ?? [TEST_API_KEY];
  const config: ServerConfig = {
    port: 0,
    host: '127.0.0.1',
    apiKeys: keys.map((key, index) => new Secret(`GROUNDWORK_API_KEYS[${index}]`, key)),
    bodyLimitBytes: 64 * 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    maxConnections: 1000,
    shutdownTimeoutMs: 5000,
    accessLog: true,
    corsOrigins: [],
    cache: false,
    ...options.config,
  };
  const { logger, lines: chunks } = captureLogger('debug');
  const server = createServer(backend, config, {
    logger,
    ...(options.tenants === undefined ? {} : { tenants: options.tenants }),
    ...(options.admin === undefined ? {} : { admin: options.admin }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  const address = await server.listen();
  const url = `http://127.0.0.1:${address.port}`;
  const client = new OpenAI({ apiKey: keys[0] ?? 'unused', baseURL: `${url}/v1`, maxRetries: 0, timeout: 10_000 });
  const logText = (): string => chunks.join('');
  return {
    server,
    backend,
    url,
    client,
    get logs() {
      return logText()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText,
    close: () => server.close(),
  };
}
