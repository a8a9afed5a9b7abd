import { afterEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import type { LlmCallOptions } from '../llm/llm-client-types.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';
import { createServer, type GroundworkServer } from './create-server.js';
import { createServiceBackend, type ServiceLlm } from './infrastructure-backend.js';

const KEY = 'gw-cancel-key-51af';

/** The full call path behind `serve`, with each LLM call's options and outcome kept for the test. */
interface Stack {
  fake: FakeProviderServer;
  infrastructure: Infrastructure;
  server: GroundworkServer;
  url: string;
  calls: Array<{ options: LlmCallOptions; outcome: Promise<unknown> }>;
}

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.server.close();
  await stack?.fake.close();
  stack = undefined;
});

async function startStack(shutdownTimeoutMs = 5000): Promise<Stack> {
  const fake = await startFakeProviderServer();
  const infrastructure = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-upstream-secret-0d4c',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_MAX_ATTEMPTS: '1',
      GROUNDWORK_API_KEYS: KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      SERVER_SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    },
    envFile: false,
    logger: silentLogger(),
  });
  const calls: Stack['calls'] = [];
  const real = infrastructure.llm;
  const llm: ServiceLlm = {
    complete: (request, options = {}) => {
      const outcome = real.complete(request, options);
      calls.push({ options, outcome: outcome.catch((error: unknown) => error) });
      return outcome;
    },
    stream: (request, options) => real.stream(request, options),
    close: () => real.close(),
  };
  const backend = createServiceBackend({
    config: infrastructure.config,
    metrics: infrastructure.metrics,
    database: infrastructure.database,
    llm,
    validateEnvironment: () => infrastructure.validateEnvironment(),
    health: (options) => infrastructure.health(options),
    close: () => infrastructure.close(),
  });
  await backend.migrate?.();
  const server = createServer(backend, infrastructure.config.server, { logger: silentLogger(), metrics: infrastructure.metrics });
  const address = await server.listen();
  stack = { fake, infrastructure, server, url: `http://127.0.0.1:${address.port}`, calls };
  return stack;
}

/** Resolves once the fake provider holds a request it will never answer. */
function upstreamHangs(fake: FakeProviderServer): Promise<void> {
  return new Promise((resolve) => {
    fake.setHandler(() => {
      resolve();
      return { type: 'hang' };
    });
  });
}

function post(url: string, signal: AbortSignal): Promise<unknown> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    signal,
  }).catch((error: unknown) => error);
}

describe('a served JSON call’s cancellation', () => {
  it('reaches the LLM client as the request’s signal and stops the upstream call when the caller disconnects', async () => {
    const { fake, url, calls } = await startStack();
    const hanging = upstreamHangs(fake);
    const caller = new AbortController();
    const request = post(url, caller.signal);
    await hanging;
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.options.signal?.aborted).toBe(false);
    caller.abort();
    await request;
    // The upstream never answers: the call can only end by being cancelled.
    expect(await call.outcome).toMatchObject({ message: expect.stringMatching(/disconnected/) });
    expect(call.options.signal?.aborted).toBe(true);
  });

  it('stops the upstream call when shutdown gives up waiting for it', async () => {
    const { fake, url, calls, server } = await startStack(100);
    const hanging = upstreamHangs(fake);
    const request = post(url, new AbortController().signal);
    await hanging;
    await server.close();
    await request;
    expect(await calls[0]?.outcome).toMatchObject({ message: expect.stringMatching(/SERVER_SHUTDOWN_TIMEOUT_MS/) });
  });
});
