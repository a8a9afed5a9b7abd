import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../config/secret.js';
import { FakeProviderServer } from '../../../testing/fake-provider-server.js';
import { CANARY_KEY, rejection } from '../../llm.test-helpers.js';
import type { ChatRequest, ChatStreamEvent } from '../../types.js';
import { createAzureProvider } from '../azure/azure-provider.js';
import { createOpenAiCompatibleProvider } from '../openai-compatible/openai-compatible-provider.js';
import { createOpenAiProvider } from './openai-provider.js';

const request: ChatRequest = { model: '', messages: [{ role: 'user', content: 'Say hi' }] };
const signal = (): AbortSignal => new AbortController().signal;

describe('what OpenAI-family providers put on the wire', () => {
  let fake: FakeProviderServer;
  beforeAll(async () => {
    fake = await new FakeProviderServer({ keepAuthHeaders: true }).start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('OpenAI: a bearer key, the organisation and project headers, and the body once', async () => {
    const provider = createOpenAiProvider({
      apiKey: new Secret('OPENAI_API_KEY', 'sk-wire-test'),
      model: 'gpt-4o-mini',
      baseUrl: fake.openaiBaseUrl,
      organization: 'org-123',
      project: 'proj-456',
    });
    await provider.complete({ ...request, passthrough: { prediction: { type: 'content', content: 'hi' } } }, signal());
    expect(fake.requests[0]?.headers).toMatchObject({
      authorization: 'Bearer sk-wire-test',
      'openai-organization': 'org-123',
      'openai-project': 'proj-456',
      'content-type': 'application/json',
    });
    expect(fake.requests[0]?.body).toMatchObject({ model: 'gpt-4o-mini', stream: false, prediction: { type: 'content', content: 'hi' } });
    await provider.close?.();
  });

  it('Azure with an Entra token provider: a fresh bearer token per request, the deployment URL and api-version', async () => {
    let issued = 0;
    const provider = createAzureProvider({
      azureTokenProvider: async () => `entra-token-${++issued}`,
      endpoint: `${fake.azureEndpoint}/`,
      deployment: 'chat-deploy',
      apiVersion: '2024-10-21',
    });
    await provider.complete(request, signal());
    await provider.embed?.({ model: 'embed-deploy', inputs: ['x'] }, signal());
    expect(
      fake.requests.map((sent) => [sent.path, sent.query['api-version'], sent.headers['authorization'], sent.headers['api-key']]),
    ).toEqual([
      ['/openai/deployments/chat-deploy/chat/completions', '2024-10-21', 'Bearer entra-token-1', undefined],
      ['/openai/deployments/embed-deploy/embeddings', '2024-10-21', 'Bearer entra-token-2', undefined],
    ]);
    await provider.close?.();
  });

  it('Azure with a key: the api-key header and no Authorization', async () => {
    const provider = createAzureProvider({
      apiKey: new Secret('AZURE_OPENAI_API_KEY', 'azure-key-1'),
      endpoint: fake.azureEndpoint,
      deployment: 'chat-deploy',
      apiVersion: '2024-06-01',
    });
    await provider.ping(signal());
    await provider.complete({ ...request, maxTokens: 5 }, signal());
    expect(fake.requests[0]).toMatchObject({ path: '/openai/models', query: { 'api-version': '2024-06-01' } });
    expect(fake.requests[1]?.headers).toMatchObject({ 'api-key': 'azure-key-1' });
    expect(fake.requests[1]?.headers['authorization']).toBeUndefined();
    expect(fake.requests[1]?.body).toMatchObject({ max_tokens: 5 });
    await provider.close?.();
  });

  it('Azure: a token provider that fails fails the call before any request', async () => {
    const provider = createAzureProvider({
      azureTokenProvider: async () => {
        throw new Error('no managed identity here');
      },
      endpoint: fake.azureEndpoint,
      deployment: 'chat-deploy',
      apiVersion: '2024-10-21',
    });
    expect((await rejection(provider.complete(request, signal()))).message).toContain('no managed identity here');
    expect(fake.requests).toHaveLength(0);
  });

  it('asks for usage in streams, keeping the caller’s own stream options', async () => {
    const provider = createOpenAiCompatibleProvider({ baseUrl: fake.openaiBaseUrl, model: 'llama3.1' });
    const events: ChatStreamEvent[] = [];
    for await (const event of provider.stream({ ...request, passthrough: { stream_options: { extra: 1 } } }, signal())) events.push(event);
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { extra: 1, include_usage: true } });
    expect(fake.requests[0]?.headers['authorization']).toBe('Bearer not-needed');
    expect(events.at(-1)?.type).toBe('done');
  });
});

describe('failures only a raw server can produce', () => {
  let server: Server;
  let answer: (response: import('node:http').ServerResponse) => void;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((_request, response) => answer(response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const provider = (timeoutMs?: number) =>
    createOpenAiProvider({ apiKey: new Secret('OPENAI_API_KEY', CANARY_KEY), model: 'gpt-4o-mini', baseUrl, timeoutMs });

  it('an error event inside a stream is a ProviderServerError, with the key scrubbed', async () => {
    answer = (response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(
        'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n',
      );
      response.end(`data: {"error":{"message":"overloaded, key ${CANARY_KEY}","type":"server_error"}}\n\n`);
    };
    const seen: ChatStreamEvent[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of provider().stream(request, signal())) seen.push(event);
      })(),
    );
    expect(error).toMatchObject({ name: 'ProviderServerError', retryable: true });
    expect(error.message).toContain('the stream reported an error: overloaded');
    expect(inspect(error, { depth: 8 })).not.toContain(CANARY_KEY);
    expect(seen.some((event) => event.type === 'delta')).toBe(true);
  });

  it('an error body that is not JSON keeps its text and its status', async () => {
    answer = (response) => response.writeHead(503, { 'content-type': 'text/plain' }).end('upstream connect error');
    expect(await rejection(provider().complete(request, signal()))).toMatchObject({
      name: 'ProviderServerError',
      status: 503,
      message: expect.stringContaining('upstream connect error'),
    });
  });

  it('no headers within the client timeout is a ProviderTimeoutError', async () => {
    answer = () => {};
    expect(await rejection(provider(100).complete(request, signal()))).toMatchObject({ name: 'ProviderTimeoutError', retryable: true });
  });

  it('a stream that stops sending within the client timeout is a ProviderTimeoutError', async () => {
    answer = (response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': opening\n\n');
    };
    expect(
      await rejection(
        (async () => {
          for await (const _event of provider(150).stream(request, signal()));
        })(),
      ),
    ).toMatchObject({ name: 'ProviderTimeoutError' });
  });

  it('an unreachable server is a ProviderConnectionError', async () => {
    const closed = createOpenAiProvider({
      apiKey: new Secret('OPENAI_API_KEY', 'sk-unreachable'),
      model: 'm',
      baseUrl: 'http://127.0.0.1:1/v1',
    });
    expect(await rejection(closed.complete(request, signal()))).toMatchObject({ name: 'ProviderConnectionError', retryable: true });
  });
});
