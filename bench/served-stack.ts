import { type Agent, request as httpRequest } from 'node:http';
import { createInfrastructure } from '../src/create-infrastructure.js';
import { silentLogger } from '../src/observability/logger.js';
import { createServer, type GroundworkServer } from '../src/server/create-server.js';
import { createServiceBackend } from '../src/server/infrastructure-backend.js';
import type { ServiceBackend } from '../src/server/service-backend.js';
import type { FakeProviderServer } from '../src/testing/fake-provider-server.js';

/** The bearer key the served benchmarks' `groundwork serve` accepts. */
export const BENCH_KEY = 'gw-bench-key';

/** A `groundwork serve` in this process, in front of `fake`; `server.close()` closes the whole instance. */
export interface ServedStack {
  /** Its OpenAI-style base URL, ending in `/v1`. */
  url: string;
  server: GroundworkServer;
  backend: ServiceBackend;
}

/**
 * Starts `groundwork serve` over in-memory SQLite, with the cache and access log off and limits out of
 * the way, so a benchmark measures the call path and the HTTP layer.
 */
export async function startServedStack(fake: FakeProviderServer, provider = 'openai'): Promise<ServedStack> {
  const infrastructure = await createInfrastructure({
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: provider,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_CACHE: 'off',
      LLM_REQUESTS_PER_MINUTE: '10000000',
      LLM_MAX_CONCURRENT: '64',
      GROUNDWORK_API_KEYS: BENCH_KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      SERVER_ACCESS_LOG: 'false',
    },
    envFile: false,
    logger: silentLogger(),
  });
  const backend = createServiceBackend(infrastructure);
  await backend.migrate?.();
  const server = createServer(backend, infrastructure.config.server, { logger: silentLogger(), metrics: infrastructure.metrics });
  const address = await server.listen();
  return { url: `http://127.0.0.1:${address.port}/v1`, server, backend };
}

/** POSTs `body` with the bench key over a keep-alive agent and drains the answer; rejects on a non-200. */
export function postJson(url: string, body: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` } },
      (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
