import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';
import { createServer, type GroundworkServer } from './create-server.js';
import { createServiceBackend, type ServiceLlm } from './infrastructure-backend.js';

const KEY = 'gw-flight-key-7c21';
const directory = mkdtempSync(join(tmpdir(), 'groundwork-served-flight-'));

interface Stack {
  fake: FakeProviderServer;
  infrastructure: Infrastructure;
  server: GroundworkServer;
  url: string;
  database: string;
  /** Each LLM call `serve` made, settled (with its error, if any) when the call has ended for `serve`. */
  ended: Array<Promise<unknown>>;
}

let stack: Stack | undefined;
let databases = 0;

afterEach(async () => {
  await stack?.server.close();
  await stack?.fake.close();
  stack = undefined;
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

async function startStack(): Promise<Stack> {
  const fake = await startFakeProviderServer();
  const database = join(directory, `app-${++databases}.db`);
  const infrastructure = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: `sqlite:${database}`,
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-upstream-secret-51c0',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_MAX_ATTEMPTS: '1',
      LLM_CACHE: 'memory',
      SERVER_CACHE: 'true',
      GROUNDWORK_API_KEYS: KEY,
      HOST: '127.0.0.1',
      PORT: '0',
    },
    envFile: false,
    logger: silentLogger(),
  });
  const ended: Stack['ended'] = [];
  const real = infrastructure.llm;
  const llm: ServiceLlm = {
    complete: (request, options = {}) => {
      const outcome = real.complete(request, options);
      ended.push(outcome.catch((error: unknown) => error));
      return outcome;
    },
    stream: (request, options) => {
      const events = real.stream(request, options);
      let done: () => void = () => {};
      ended.push(
        new Promise<void>((resolve) => {
          done = resolve;
        }),
      );
      return (async function* () {
        try {
          yield* events;
        } finally {
          done();
        }
      })();
    },
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
  stack = { fake, infrastructure, server, url: `http://127.0.0.1:${address.port}`, database, ended };
  return stack;
}

/** The fake holds every request until `open()`, then answers it 'Paris'; `arrived` resolves with the first request. */
function heldUpstream(fake: FakeProviderServer) {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let arrived: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  fake.setHandler(async () => {
    arrived();
    await gate;
    return { type: 'answer', content: 'Paris' };
  });
  return { open, arrived: first };
}

function ask(url: string, signal?: AbortSignal, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Capital of France?' }], temperature: 0, ...extra }),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Resolves once `serve` has made `count` LLM calls. */
async function calls(count: number): Promise<void> {
  while ((stack?.ended.length ?? 0) < count) await new Promise((resolve) => setImmediate(resolve));
}

function ledger(database: string) {
  const sqlite = new Sqlite(database, { readonly: true });
  try {
    return sqlite.prepare('select outcome, total_tokens, cost_usd, cache_hit from llm_usage order by id').all() as Array<{
      outcome: string;
      total_tokens: number;
      cost_usd: number;
      cache_hit: number;
    }>;
  } finally {
    sqlite.close();
  }
}

describe('serve, identical cacheable requests in flight together', () => {
  it('answers the second client when the first disconnects', async () => {
    const { fake, url } = await startStack();
    const upstream = heldUpstream(fake);
    const leaving = new AbortController();
    const first = ask(url, leaving.signal).catch((error: unknown) => error);
    await upstream.arrived;
    const second = ask(url);
    await calls(2);
    leaving.abort();
    await first;
    // The first call has ended for serve before the upstream answers.
    expect(await stack?.ended[0]).toMatchObject({ message: expect.stringMatching(/disconnected/) });
    upstream.open();
    const answer = await second;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('Paris');
    expect(fake.requests).toHaveLength(1);
  });

  it('releases the call of a client that joined and then disconnects, while the upstream call goes on', async () => {
    const { fake, url, ended } = await startStack();
    const upstream = heldUpstream(fake);
    const first = ask(url);
    await upstream.arrived;
    const joining = new AbortController();
    const joined = ask(url, joining.signal).catch((error: unknown) => error);
    await calls(2);
    joining.abort();
    await joined;
    // The joined call ends while the upstream still holds the answer back.
    expect(await ended[1]).toMatchObject({ message: expect.stringMatching(/disconnected/) });
    upstream.open();
    expect((await first).status).toBe(200);
  });

  it('aborts the upstream call when every client has disconnected', async () => {
    const { fake, url } = await startStack();
    const upstream = heldUpstream(fake);
    const a = new AbortController();
    const b = new AbortController();
    const first = ask(url, a.signal).catch((error: unknown) => error);
    await upstream.arrived;
    const second = ask(url, b.signal).catch((error: unknown) => error);
    await calls(2);
    const cut = fake.cutByCaller(fake.requests[0]!);
    a.abort();
    b.abort();
    await Promise.all([first, second]);
    await cut;
    upstream.open();
  });
});

describe('serve, a stream its client abandons', () => {
  it('is in the ledger with the tokens it spent and their cost', async () => {
    const { fake, url, infrastructure, database, ended } = await startStack();
    fake.enqueue({ type: 'hang', afterChunks: 3 });
    const client = new AbortController();
    const response = await ask(url, client.signal, {
      stream: true,
      temperature: 1,
      messages: [{ role: 'user', content: 'Write a long story about a cat who learns to fly. '.repeat(20) }],
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/"content":"/g) ?? []).length < 3) text += decoder.decode((await reader.read()).value);
    client.abort();
    await ended[0];
    await infrastructure.llm.flush();
    const rows = ledger(database);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.outcome).toBe('cancelled');
    expect(rows[0]?.total_tokens).toBeGreaterThan(0);
    expect(rows[0]?.cost_usd).toBeGreaterThan(0);
  });
});
