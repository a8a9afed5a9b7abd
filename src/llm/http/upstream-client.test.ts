import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../llm.test-helpers.js';
import { UpstreamClient, upstreamTarget } from './upstream-client.js';
import { UpstreamStatusError } from './upstream-status-error.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let handler: Handler;
let baseUrl: string;
const sockets = new Set<string>();
let client: UpstreamClient;

beforeAll(async () => {
  server = createServer((request, response) => {
    sockets.add(`${request.socket.remotePort}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(async () => {
  await client?.close();
  sockets.clear();
});

describe('upstreamTarget', () => {
  it('joins the base path, the operation and both queries', () => {
    expect(upstreamTarget('https://x.example/openai/', '/models', 'api-version=1')).toEqual({
      origin: 'https://x.example',
      path: '/openai/models?api-version=1',
    });
    expect(upstreamTarget('http://h:8080/v1?tenant=a', '/chat/completions')).toEqual({
      origin: 'http://h:8080',
      path: '/v1/chat/completions?tenant=a',
    });
  });
});

describe('UpstreamClient', () => {
  it('sends the body as given, parses the JSON answer once, and reuses keep-alive connections', async () => {
    const bodies: string[] = [];
    handler = (request, response) => {
      let text = '';
      request
        .on('data', (chunk) => (text += chunk))
        .on('end', () => {
          bodies.push(text);
          response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_1' }).end('{"ok":true}');
        });
    };
    client = new UpstreamClient();
    const target = upstreamTarget(baseUrl, '/chat/completions');
    for (let index = 0; index < 6; index++) {
      const answer = await client.json(target, 'POST', { 'content-type': 'application/json' }, '{"n":1}', new AbortController().signal);
      expect(answer).toMatchObject({ data: { ok: true }, requestId: 'req_1' });
    }
    expect(bodies).toEqual(Array(6).fill(`{"n":1}`));
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('gives a JSON answer’s request id and rate-limit headers as sent, and every header when asked for', async () => {
    handler = (_request, response) => {
      response.setHeader('X-Request-Id', 'req_7');
      response.setHeader('x-ratelimit-remaining-requests', '99');
      response.setHeader('X-RateLimit-Reset-Tokens', ['1s', '2s']);
      response.setHeader('openai-processing-ms', '5');
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    client = new UpstreamClient();
    const answer = await client.json(upstreamTarget(baseUrl, '/chat/completions'), 'POST', {}, '{}', new AbortController().signal);
    expect(answer.requestId).toBe('req_7');
    expect(answer.rateLimitHeaders).toEqual({ 'x-ratelimit-remaining-requests': '99', 'x-ratelimit-reset-tokens': '1s, 2s' });
    expect(answer.headers).toMatchObject({
      'x-request-id': 'req_7',
      'x-ratelimit-reset-tokens': ['1s', '2s'],
      'openai-processing-ms': '5',
      'content-type': 'application/json',
    });
    expect(answer.headers).toBe(answer.headers);
  });

  it('keeps a JSON answer’s headers its own after the next answer on the same connection has been read', async () => {
    // The answer keeps undici's raw header buffers and parses them only when `headers` is first read:
    // this holds only while those buffers are not views into memory that later reads of the socket reuse.
    const ports: Array<number | undefined> = [];
    const filler = 'f'.repeat(1024 * 1024); // many socket reads, each of which could reuse freed memory
    handler = (request, response) => {
      ports.push(request.socket.remotePort);
      const first = ports.length === 1;
      // The same names and value lengths in both answers, so a view into reused memory would read the second's values.
      request.resume().on('end', () => {
        response.setHeader('X-Request-Id', first ? 'req_first_1' : 'req_other_2');
        response.setHeader('x-ratelimit-remaining-requests', first ? '111' : '222');
        response.setHeader('x-answer', first ? 'one' : 'two');
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(first ? '{"n":1}' : JSON.stringify({ n: 2, filler }));
      });
    };
    client = new UpstreamClient();
    const target = upstreamTarget(baseUrl, '/chat/completions');
    const first = await client.json(target, 'POST', {}, '{}', new AbortController().signal);
    // undici lets a full turn of the event loop pass before it reuses a keep-alive connection;
    // a request sent before that goes to a second one.
    await new Promise((resolve) => setImmediate(resolve));
    const second = await client.json(target, 'POST', {}, '{}', new AbortController().signal);
    expect(ports).toHaveLength(2);
    expect(ports[1]).toBe(ports[0]);
    expect((second.data as { filler: string }).filler).toHaveLength(filler.length);

    expect(first.headers).toMatchObject({ 'x-request-id': 'req_first_1', 'x-ratelimit-remaining-requests': '111', 'x-answer': 'one' });
    expect(first.requestId).toBe('req_first_1');
    expect(first.rateLimitHeaders).toEqual({ 'x-ratelimit-remaining-requests': '111' });
    expect(first.data).toEqual({ n: 1 });
    expect(second.headers).toMatchObject({ 'x-request-id': 'req_other_2', 'x-ratelimit-remaining-requests': '222', 'x-answer': 'two' });
    expect(second.requestId).toBe('req_other_2');
  });

  it('turns an error status into an UpstreamStatusError with the body’s facts and the wait asked for', async () => {
    handler = (_request, response) => {
      response
        .writeHead(429, { 'content-type': 'application/json', 'x-request-id': 'req_9', 'retry-after': '3' })
        .end('{"error":{"message":"Slow down","type":"requests","code":"rate_limit_exceeded","param":null}}');
    };
    client = new UpstreamClient();
    const error = await rejection(client.json(upstreamTarget(baseUrl, '/models'), 'GET', {}, undefined, new AbortController().signal));
    expect(error).toBeInstanceOf(UpstreamStatusError);
    expect(error).toMatchObject({ status: 429, message: 'Slow down', code: 'rate_limit_exceeded', requestId: 'req_9', retryAfterMs: 3000 });
  });

  it('keeps a text error body, shortened, as the message', async () => {
    handler = (_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end(`<html>${'x'.repeat(2000)}</html>`);
    client = new UpstreamClient();
    const error = await rejection(client.json(upstreamTarget(baseUrl, '/models'), 'GET', {}, undefined, new AbortController().signal));
    expect(error).toMatchObject({ status: 502 });
    expect(error.message.length).toBeLessThanOrEqual(500);
  });

  it('fails with a SyntaxError on an answer that is not JSON', async () => {
    handler = (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [');
    client = new UpstreamClient();
    expect(await rejection(client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, new AbortController().signal))).toBeInstanceOf(
      SyntaxError,
    );
  });

  it('times out when no headers come within timeoutMs', async () => {
    handler = () => {};
    client = new UpstreamClient({ timeoutMs: 100 });
    const error = await rejection(client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, new AbortController().signal));
    expect((error as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('streams events as they arrive and leaves no listener on the signal, whether read to the end or abandoned', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 1\n\n');
      response.write('data: 2\n\n');
      response.end('data: [DONE]\n\n');
    };
    client = new UpstreamClient();
    const target = upstreamTarget(baseUrl, '/chat/completions');
    const signal = new AbortController().signal;
    const whole = await client.stream(target, {}, '{}', signal);
    const seen: string[] = [];
    for await (const event of whole.events) seen.push(event.data);
    expect(seen).toEqual(['1', '2', '[DONE]']);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);

    const abandoned = await client.stream(target, {}, '{}', signal);
    for await (const _event of abandoned.events) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);

    await client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, signal).catch(() => undefined);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('gives a stream’s request id and rate-limit headers from its raw headers, and fails an error status with an UpstreamStatusError', async () => {
    let status = 200;
    handler = (_request, response) => {
      if (status !== 200) {
        response
          .writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_e' })
          .end('{"error":{"message":"No such model"}}');
        return;
      }
      response.setHeader('X-Request-Id', 'req_s');
      response.setHeader('X-RateLimit-Remaining-Requests', '7');
      response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: 1\n\n');
    };
    client = new UpstreamClient();
    const target = upstreamTarget(baseUrl, '/chat/completions');
    const signal = new AbortController().signal;
    const answer = await client.stream(target, {}, '{}', signal);
    expect(answer.requestId).toBe('req_s');
    expect(answer.rateLimitHeaders).toEqual({ 'x-ratelimit-remaining-requests': '7' });
    expect(answer.headers).toMatchObject({ 'x-request-id': 'req_s', 'content-type': 'text/event-stream' });
    const seen: string[] = [];
    for await (const event of answer.events) seen.push(event.data);
    expect(seen).toEqual(['1']);

    status = 404;
    const error = await rejection(client.stream(target, {}, '{}', signal));
    expect(error).toBeInstanceOf(UpstreamStatusError);
    expect(error).toMatchObject({ status: 404, message: 'No such model', requestId: 'req_e' });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('aborts a request in flight with the signal’s reason', async () => {
    handler = () => {};
    client = new UpstreamClient();
    const controller = new AbortController();
    const pending = rejection(client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, controller.signal));
    setTimeout(() => controller.abort(new Error('caller gave up')), 20);
    expect((await pending).message).toBe('caller gave up');
  });
  it('reads a JSON answer sent in several chunks, a character split between two, and leaves no listener on the signal', async () => {
    const body = Buffer.from(JSON.stringify({ text: 'café ☕ done' }));
    const split = body.indexOf(0xe2) + 1;
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_chunks' });
      response.write(body.subarray(0, split));
      setTimeout(() => response.end(body.subarray(split)), 5);
    };
    client = new UpstreamClient();
    const signal = new AbortController().signal;
    const answer = await client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, signal);
    expect(answer.data).toEqual({ text: 'café ☕ done' });
    expect(answer.requestId).toBe('req_chunks');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('aborts with the signal’s reason while the body arrives, and refuses an aborted signal without sending', async () => {
    let requests = 0;
    handler = (_request, response) => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"partial":');
    };
    client = new UpstreamClient();
    const controller = new AbortController();
    const pending = rejection(client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, controller.signal));
    while (requests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('caller left mid-body'));
    expect((await pending).message).toBe('caller left mid-body');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const before = requests;
    expect((await rejection(client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, controller.signal))).message).toBe(
      'caller left mid-body',
    );
    expect(requests).toBe(before);
  });

  it('says when a request was dispatched: once connected, and never when the connection was refused', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    };
    client = new UpstreamClient();
    const signal = new AbortController().signal;
    let dispatched = 0;
    await client.json(upstreamTarget(baseUrl, '/x'), 'GET', {}, undefined, signal, () => dispatched++);
    expect(dispatched).toBe(1);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await rejection(
      client.json(upstreamTarget(`http://127.0.0.1:${port}/v1`, '/x'), 'GET', {}, undefined, signal, () => dispatched++),
    );
    expect((refused as { code?: unknown }).code).toBe('ECONNREFUSED');
    expect(dispatched).toBe(1);
  });
});
