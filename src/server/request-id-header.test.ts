import { afterEach, describe, expect, it } from 'vitest';
import { GroundworkError } from '../errors/groundwork-error.js';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

function call(server: TestServer, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}`, 'x-request-id': 'trace-1', ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
}

describe('x-request-id on every chat completions answer', () => {
  it('on answers, whole and streamed', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({}, {});
    const whole = await call(harness, { body: BODY });
    expect([whole.status, whole.headers.get('x-request-id')]).toEqual([200, 'trace-1']);
    const streamed = await call(harness, { body: JSON.stringify({ ...JSON.parse(BODY), stream: true }) });
    expect([streamed.status, streamed.headers.get('x-request-id')]).toEqual([200, 'trace-1']);
    await streamed.text();
  });

  it('on refusals: a bad body, a missing key, a failed call, a wrong method', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({ error: new GroundworkError('upstream_down', 'upstream down') });
    const refusals = [
      await call(harness, { body: '{' }),
      await call(harness, { body: BODY, headers: { authorization: 'Bearer wrong' } }),
      await call(harness, { body: BODY }),
      await call(harness, { method: 'GET' }),
    ];
    expect(refusals.map((response) => [response.status >= 400, response.headers.get('x-request-id')])).toEqual([
      [true, 'trace-1'],
      [true, 'trace-1'],
      [true, 'trace-1'],
      [true, 'trace-1'],
    ]);
  });

  it('on a CORS preflight', async () => {
    harness = await startTestServer({ config: { corsOrigins: ['https://app.example.com'] } });
    const preflight = await call(harness, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect([preflight.status, preflight.headers.get('x-request-id')]).toEqual([204, 'trace-1']);
  });
});
