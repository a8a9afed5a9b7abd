import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Sends `text` on a connection of its own and resolves with everything the server wrote before closing it. */
function exchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(Number(port), hostname, () => {
      if (text !== '') socket.write(text);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

/** The status, headers (lower-cased names) and parsed body of one raw HTTP answer. */
function parsed(answer: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: body === '' ? undefined : JSON.parse(body) };
}

async function requestsTotal(url: string, status: number): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('groundwork_http_requests_total{') && line.includes(`status="${status}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('requests refused before a route sees them', () => {
  it('answers headers larger than Node accepts with 431 in OpenAI’s error JSON, logged and counted', async () => {
    harness = await startTestServer();
    const answer = parsed(await exchange(harness.url, `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(answer.status).toBe(431);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['connection']).toBe('close');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body).toEqual({
      error: { type: 'invalid_request_error', code: 'request_headers_too_large', param: null, message: expect.stringMatching(/headers/) },
    });
    expect(await requestsTotal(harness.url, 431)).toBe(1);
    expect(harness.logs.find((line) => line['msg'] === 'request' && line['status'] === 431)).toMatchObject({ route: 'unmatched' });
  });

  it('answers a request that is not HTTP with 400 in OpenAI’s error JSON', async () => {
    harness = await startTestServer();
    const answer = parsed(await exchange(harness.url, 'HELLO THERE\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'malformed_http_request',
        param: null,
        message: expect.stringMatching(/not valid HTTP/),
      },
    });
    expect(await requestsTotal(harness.url, 400)).toBe(1);
  });

  it('answers a body that stops arriving with 408 naming SERVER_REQUEST_TIMEOUT_MS, and records 408 rather than a disconnect', async () => {
    harness = await startTestServer({ config: { headersTimeoutMs: 500, requestTimeoutMs: 500 } });
    const answer = parsed(
      await exchange(
        harness.url,
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Request-Id: slow-body-1\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model"`,
      ),
    );
    expect(answer.status).toBe(408);
    expect(answer.headers['x-request-id']).toBe('slow-body-1');
    expect(answer.body).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'request_timeout',
        param: null,
        message: expect.stringContaining('SERVER_REQUEST_TIMEOUT_MS'),
      },
    });
    await expect
      .poll(() => harness!.logs.find((line) => line['msg'] === 'request'))
      .toMatchObject({ route: '/v1/chat/completions', status: 408, requestId: 'slow-body-1' });
    expect(await requestsTotal(harness.url, 499)).toBe(0);
    expect(harness.backend.calls).toHaveLength(0);
  });

  it('answers headers that stop arriving with 408 naming SERVER_HEADERS_TIMEOUT_MS and its time, not the body’s', async () => {
    harness = await startTestServer({ config: { headersTimeoutMs: 1000, requestTimeoutMs: 5000 } });
    const answer = parsed(await exchange(harness.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    expect(answer.status).toBe(408);
    const message = (answer.body as { error: { message: string } }).error.message;
    expect(message).toMatch(/headers did not all arrive within 1000 ms \(SERVER_HEADERS_TIMEOUT_MS\)/);
    expect(message).not.toContain('5000');
  });

  it('closes a connection that never sent a byte without answering it or counting it as a request', async () => {
    harness = await startTestServer({ config: { headersTimeoutMs: 1000, requestTimeoutMs: 1000 } });
    // A browser's preconnect or a pool's spare connection: opened, then never used.
    expect(await exchange(harness.url, '')).toBe('');
    expect(harness.logs.filter((line) => line['msg'] === 'request')).toEqual([]);
    expect(await requestsTotal(harness.url, 408)).toBe(0);
  });
});
