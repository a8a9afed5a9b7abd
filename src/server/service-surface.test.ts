import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { GroundworkError } from '../errors/groundwork-error.js';
import { ProviderServerError } from '../errors/provider-errors.js';
import { refusal } from './service-stack.test-helpers.js';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ask = (server: TestServer) =>
  server.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

describe('retry advice for SDKs', () => {
  it('says x-should-retry: false once Groundwork already retried, with the attempt count', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({ error: new ProviderServerError('upstream 500', { provider: 'openai', status: 500 }), attempts: 3 });
    const error = await refusal(ask(harness));
    expect(error.status).toBe(502);
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect(error.headers?.get('x-groundwork-attempts')).toBe('3');
  });

  it('leaves the SDK free to retry a retryable failure Groundwork tried once', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({ error: new ProviderServerError('upstream 500', { provider: 'openai', status: 500 }), attempts: 1 });
    const error = await refusal(ask(harness));
    expect(error.headers?.get('x-should-retry')).toBeNull();
    expect(error.headers?.get('x-groundwork-attempts')).toBe('1');
  });

  it('says x-should-retry: false for failures retrying cannot fix', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({ error: new GroundworkError('llm_unsupported_params', 'The provider cannot honour "logit_bias".') });
    const error = await refusal(ask(harness));
    expect(error.status).toBe(400);
    expect(error.headers?.get('x-should-retry')).toBe('false');
  });

  it('keeps the official SDK from retrying on top of Groundwork’s retries', async () => {
    harness = await startTestServer();
    const client = new OpenAI({ apiKey: TEST_API_KEY, baseURL: `${harness.url}/v1`, maxRetries: 2 });
    harness.backend.enqueue({ error: new ProviderServerError('upstream 500', { provider: 'openai', status: 500 }), attempts: 3 });
    await refusal(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
    expect(harness.backend.calls).toHaveLength(1);
  });
});

describe('credentials', () => {
  it('accepts Azure’s api-key header as well as a bearer token', async () => {
    harness = await startTestServer();
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const azure = await fetch(`${harness.url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': TEST_API_KEY }, body });
    expect(azure.status).toBe(200);
    const wrong = await fetch(`${harness.url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': 'gw-wrong' }, body });
    expect(wrong.status).toBe(401);
  });
});

describe('CORS', () => {
  const origin = 'https://app.example.com';

  it('answers a preflight from an allowed origin before authentication', async () => {
    harness = await startTestServer({ config: { corsOrigins: [origin] } });
    const preflight = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(harness.backend.calls).toHaveLength(0);
  });

  it('lets an allowed page read the answer and its headers, and refuses other origins’ preflights', async () => {
    harness = await startTestServer({ config: { corsOrigins: [origin] } });
    const answer = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { origin, authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    expect(answer.headers.get('access-control-expose-headers')).toContain('x-groundwork-attempts');
    const other = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends no CORS headers when no origin is configured', async () => {
    harness = await startTestServer();
    const response = await fetch(`${harness.url}/v1/models`, { headers: { origin, authorization: `Bearer ${TEST_API_KEY}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('GET /v1/models/{model}', () => {
  it('retrieves one model, and answers an unknown one with 404 in OpenAI’s shape', async () => {
    harness = await startTestServer();
    harness.backend.models = [{ id: 'org/model-1', ownedBy: 'openai' }];
    expect(await harness.client.models.retrieve('org/model-1')).toEqual({
      id: 'org/model-1',
      object: 'model',
      created: 0,
      owned_by: 'openai',
    });
    const missing = await refusal(harness.client.models.retrieve('nope'));
    expect(missing.status).toBe(404);
    expect(missing.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
  });
});

describe('GenAI server metrics', () => {
  it('records request duration, time to first token and time per output token', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({ content: 'one two three', chunks: 3, usage: { completionTokens: 3 } });
    const stream = await harness.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    for await (const _chunk of stream) {
      // read to the end
    }
    harness.backend.enqueue({ error: new ProviderServerError('upstream 500', { provider: 'openai', status: 500 }) });
    await refusal(ask(harness));
    const text = await (await fetch(`${harness.url}/metrics`)).text();
    expect(text).toMatch(/gen_ai_server_request_duration_seconds_count\{[^}]*error_type=""[^}]*\} 1/);
    expect(text).toMatch(/gen_ai_server_request_duration_seconds_count\{[^}]*error_type="[a-z_]+"[^}]*\} 1/);
    expect(text).toMatch(
      /gen_ai_server_time_to_first_token_seconds_count\{gen_ai_operation_name="chat",gen_ai_request_model="gpt-4o-mini"\} 1/,
    );
    expect(text).toMatch(
      /gen_ai_server_time_per_output_token_seconds_count\{gen_ai_operation_name="chat",gen_ai_request_model="gpt-4o-mini"\} 1/,
    );
  });
});
