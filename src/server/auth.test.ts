import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { silentLogger } from '../observability/logger.js';
import { ApiKeyVerifier } from './api-key-verifier.js';
import { createServer } from './create-server.js';
import { TestServiceBackend } from './service-backend.test-helpers.js';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('bearer keys', () => {
  it('refuses a missing key with 401 and OpenAI’s error JSON', async () => {
    harness = await startTestServer();
    const response = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        message: expect.stringContaining('Authorization: Bearer'),
        type: 'invalid_request_error',
        param: null,
        code: 'missing_api_key',
      },
    });
    expect(harness.backend.calls).toHaveLength(0);
  });

  it('refuses a wrong key through the SDK with 401', async () => {
    harness = await startTestServer();
    const client = new OpenAI({ apiKey: 'gw-wrong-key', baseURL: `${harness.url}/v1`, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 });
    expect(harness.backend.calls).toHaveLength(0);
  });

  it('accepts any of several configured keys', async () => {
    harness = await startTestServer({ apiKeys: ['gw-first-key-1111', 'gw-second-key-2222'] });
    const second = new OpenAI({ apiKey: 'gw-second-key-2222', baseURL: `${harness.url}/v1`, maxRetries: 0 });
    const completion = await second.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('Hello from the test backend.');
  });

  it('leaves probes and metrics open, for orchestrators and Prometheus', async () => {
    harness = await startTestServer();
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${harness.url}${path}`)).status, path).toBe(200);
  });

  it('never puts a key into a response or a log line', async () => {
    harness = await startTestServer();
    const wrong = 'gw-wrong-but-secret-looking-9f8e7d';
    await fetch(`${harness.url}/v1/models`, { headers: { authorization: `Bearer ${wrong}` } }).then((response) => response.text());
    const good = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'x-request-id': 'req-1' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'a private prompt' }] }),
    });
    const body = await good.text();
    expect(body).not.toContain(TEST_API_KEY);
    expect(harness.logText()).not.toContain(TEST_API_KEY);
    expect(harness.logText()).not.toContain(wrong);
    expect(harness.logText()).not.toContain('a private prompt');
    const access = harness.logs.find((line) => line['requestId'] === 'req-1');
    expect(access).toMatchObject({ msg: 'request', method: 'POST', route: '/v1/chat/completions', status: 200, requestId: 'req-1' });
    expect(typeof access?.['durationMs']).toBe('number');
  });
});

describe('without keys', () => {
  it('serves loopback without authentication and says so', async () => {
    harness = await startTestServer({ apiKeys: [] });
    const response = await fetch(`${harness.url}/v1/models`);
    expect(response.status).toBe(200);
    expect(harness.logs.some((line) => String(line['msg']).includes('loopback only'))).toBe(true);
  });

  it('refuses to listen on a non-loopback host', async () => {
    const server = createServer(
      new TestServiceBackend(),
      {
        port: 0,
        host: '0.0.0.0',
        apiKeys: [],
        bodyLimitBytes: 1024,
        shutdownTimeoutMs: 100,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        maxConnections: 100,
        accessLog: false,
        corsOrigins: [],
        cache: false,
      },
      { logger: silentLogger() },
    );
    await expect(server.listen()).rejects.toMatchObject({ code: 'server_unauthenticated_bind' });
    await server.close();
  });
});

describe('ApiKeyVerifier', () => {
  it('tells missing, wrong and right keys apart and accepts only the Bearer scheme', () => {
    const verifier = new ApiKeyVerifier([new Secret('GROUNDWORK_API_KEYS[0]', 'gw-key-abc')]);
    expect(verifier.verify(undefined)).toBe('missing');
    expect(verifier.verify('Basic Z3c6a2V5')).toBe('missing');
    expect(verifier.verify('Bearer gw-key-ab')).toBe('invalid');
    expect(verifier.verify('Bearer gw-key-abcd')).toBe('invalid');
    expect(verifier.verify('Bearer gw-key-abc')).toBe('ok');
    expect(verifier.verify('bearer   gw-key-abc')).toBe('ok');
    expect(new ApiKeyVerifier([]).verify(undefined)).toBe('ok');
  });
});
