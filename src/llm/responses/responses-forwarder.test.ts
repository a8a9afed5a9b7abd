import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import type { FakeBehaviour } from '../../testing/fake-behaviour.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import type { ResponsesResult } from './responses-types.js';

/* The forwarder over the providers' HTTP client: its connections end with the client, its errors are the chat path's. */

let fake: FakeProviderServer | undefined;
let infra: Infrastructure | undefined;
let proxy: CountingProxy | undefined;

afterEach(async () => {
  await infra?.close();
  await proxy?.close();
  await fake?.close();
  infra = undefined;
  proxy = undefined;
  fake = undefined;
});

/** A TCP proxy in front of the fake provider that counts the connections the client holds open to it. */
interface CountingProxy {
  url: string;
  open(): number;
  /** Resolves once no connection is open, or rejects after `ms`. */
  drained(ms: number): Promise<void>;
  close(): Promise<void>;
}

async function countingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const upstream = connect(Number(port), hostname);
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      sockets.delete(socket);
      socket.destroy();
      upstream.destroy();
    };
    socket.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    open: () => sockets.size,
    drained: (ms) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${sockets.size} connection(s) still open after ${ms} ms`)), ms);
        const check = () => {
          if (sockets.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
        for (const socket of sockets) socket.once('close', () => setImmediate(check));
        check();
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function start(env: Record<string, string> = {}): Promise<{ fake: FakeProviderServer; infra: Infrastructure }> {
  fake = await startFakeProviderServer();
  infra = await createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_MAX_ATTEMPTS: '1',
      LLM_CACHE: 'off',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-key',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      ...env,
    },
    envFile: false,
    logger: silentLogger(),
  });
  return { fake, infra };
}

async function drain(result: ResponsesResult): Promise<void> {
  if (!result.stream) return;
  for await (const _event of result.events);
}

/** The facts of an error that callers and `serve` act on. */
function factsOf(error: unknown): Record<string, unknown> {
  const facts = error as { name?: string; code?: string; status?: number; retryable?: boolean; retryAfterMs?: number; message?: string };
  return {
    name: facts.name,
    code: facts.code,
    status: facts.status,
    retryable: facts.retryable,
    retryAfterMs: facts.retryAfterMs,
    // Each request has its own id; that it is named is what matters.
    message: facts.message?.replace(/req_fake_\d+/, 'req_fake_N'),
    requestId: typeof (error as { requestId?: unknown }).requestId,
    cause: (error as { cause?: { name?: string } }).cause?.name,
  };
}

describe('the Responses forwarder', () => {
  it('ends its keep-alive connections to the upstream when the client closes', async () => {
    const server = await startFakeProviderServer();
    fake = server;
    proxy = await countingProxy(server.url);
    infra = await createInfrastructure({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-key',
        OPENAI_BASE_URL: proxy.url,
      },
      envFile: false,
      logger: silentLogger(),
    });
    const created = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' });
    await drain(await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi', stream: true }));
    if (created.stream) throw new Error('expected a whole answer');
    await infra.llm.retrieveResponse(String(created.response['id']));
    expect(proxy.open()).toBeGreaterThan(0); // kept alive for the next call
    await infra.close();
    infra = undefined;
    await proxy.drained(1000);
  });

  const failures: Array<[string, FakeBehaviour]> = [
    ['400', { type: 'error', status: 400, message: 'Bad field' }],
    ['401', { type: 'error', status: 401 }],
    ['404', { type: 'error', status: 404, message: 'No such model' }],
    ['429 with Retry-After', { type: 'error', status: 429, retryAfter: 3 }],
    ['429 insufficient_quota', { type: 'error', status: 429, code: 'insufficient_quota' }],
    ['500', { type: 'error', status: 500 }],
    ['503 with retry-after-ms', { type: 'error', status: 503, retryAfterMs: 250 }],
    ['a reset connection', { type: 'reset' }],
    ['an answer that is not JSON', { type: 'malformed' }],
  ];

  it.each(failures)('fails on %s with the same typed error as a chat call', async (_name, behaviour) => {
    const { fake, infra } = await start();
    fake.enqueue(behaviour, behaviour);
    const chat = await infra.llm.complete({ messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    const forwarded = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' }).catch((error: unknown) => error);
    expect(fake.requests.map((request) => request.path)).toEqual(['/v1/chat/completions', '/v1/responses']);
    expect(factsOf(forwarded)).toEqual(factsOf(chat));
    expect(factsOf(forwarded).name).not.toBe('Error');
  });

  it('fails on a timeout with the same typed error as a chat call', async () => {
    const { fake, infra } = await start({ LLM_TIMEOUT_MS: '100', LLM_DEADLINE_MS: '5000' });
    fake.enqueue({ type: 'hang' }, { type: 'hang' });
    const chat = await infra.llm.complete({ messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    const forwarded = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi' }).catch((error: unknown) => error);
    expect(factsOf(forwarded)).toMatchObject({ name: 'ProviderTimeoutError', code: 'provider_timeout' });
    expect(factsOf(forwarded)).toEqual(factsOf(chat));
  });

  it('fails on a stream cut after it began with the same typed error as a chat stream', async () => {
    const { fake, infra } = await start();
    const outcomes: Record<string, unknown>[] = [];
    for (const destroy of [false, true]) {
      fake.enqueue({ type: 'cut-stream', afterChunks: 2, destroy }, { type: 'cut-stream', afterChunks: 2, destroy });
      let chat: unknown;
      try {
        for await (const _event of infra.llm.stream({ messages: [{ role: 'user', content: 'hi' }] }));
      } catch (error) {
        chat = error;
      }
      let forwarded: unknown;
      try {
        await drain(await infra.llm.respond({ model: 'gpt-4o-mini', input: 'hi', stream: true }));
      } catch (error) {
        forwarded = error;
      }
      outcomes.push(factsOf(forwarded));
      expect(factsOf(forwarded)).toMatchObject({ name: 'ProviderConnectionError', code: 'provider_connection' });
      expect({ ...factsOf(forwarded), message: undefined, cause: undefined }).toEqual({
        ...factsOf(chat),
        message: undefined,
        cause: undefined,
      });
    }
    expect(outcomes).toHaveLength(2);
  });

  it('ends a stream at the [DONE] a compatible upstream sends after its final event, as OpenAI’s SDK does', async () => {
    const response = { id: 'resp_1', object: 'response', status: 'completed', model: 'gpt-4o-mini', output: [] };
    const usage = { input_tokens: 5, output_tokens: 2, total_tokens: 7 };
    const upstream = createHttpServer((_request, answer) => {
      answer.writeHead(200, { 'content-type': 'text/event-stream' });
      answer.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response, sequence_number: 0 })}\n\n`);
      const completed = { type: 'response.completed', response: { ...response, usage }, sequence_number: 1 };
      answer.end(`event: response.completed\ndata: ${JSON.stringify(completed)}\n\ndata: [DONE]\n\n`);
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    try {
      const { infra } = await start({ OPENAI_BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1` });
      await infra.initDb();
      const result = await infra.llm.respond({ model: 'gpt-4o-mini', input: 'Hi', stream: true });
      if (!result.stream) throw new Error('expected a stream');
      const types: string[] = [];
      for await (const event of result.events) types.push(event.type);
      expect(types).toEqual(['response.created', 'response.completed']);
      await infra.llm.flush();
      const rows = await infra.db.selectFrom('llm_usage').select(['outcome', 'total_tokens']).execute();
      expect(rows).toEqual([{ outcome: 'success', total_tokens: 7 }]);
    } finally {
      upstream.close();
    }
  });
});
