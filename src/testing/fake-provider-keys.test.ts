import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeEach(async () => {
  fake = await new FakeProviderServer({ apiKeys: ['right-key'] }).start();
});
afterEach(async () => {
  await fake.close();
});

async function post(
  path: string,
  headers: Record<string, string>,
  body: unknown = {},
): Promise<{ status: number; headers: Headers; body: { error: Record<string, unknown> } }> {
  const response = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error: Record<string, unknown> } };
}

describe('FakeProviderServer refuses a key it does not accept as each provider does', () => {
  it('OpenAI: 401 invalid_api_key', async () => {
    const answer = await post('/v1/chat/completions', { authorization: 'Bearer wrong-key' }, { model: 'm', messages: [] });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    expect(String(answer.body.error['message'])).toMatch(/^Incorrect API key provided/);
  });

  it('Anthropic: 401 authentication_error', async () => {
    const answer = await post(
      '/v1/messages',
      { 'x-api-key': 'wrong-key', 'anthropic-version': '2023-06-01' },
      { model: 'm', messages: [] },
    );
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  });

  it('Gemini: 400 INVALID_ARGUMENT with reason API_KEY_INVALID', async () => {
    const answer = await post('/v1beta/models/gemini-2.5-flash:generateContent', { 'x-goog-api-key': 'wrong-key' }, { contents: [] });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: 'API key not valid. Please pass a valid API key.',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
    });
  });

  it('Bedrock: 403 UnrecognizedClientException', async () => {
    const authorization = 'AWS4-HMAC-SHA256 Credential=AKIAWRONG/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00';
    const answer = await post('/model/anthropic.claude-3-haiku/converse', { authorization }, { messages: [] });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('x-amzn-errortype')).toMatch(/^UnrecognizedClientException:/);
    expect(answer.body).toEqual({ message: 'The security token included in the request is invalid.' });
  });
});

describe("FakeProviderServer and Gemini's key in the query string", () => {
  it('accepts it and records it redacted, as it does a key in a header', async () => {
    const path = '/v1beta/models/gemini-2.5-flash:generateContent';
    const right = await post(`${path}?key=right-key`, {}, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
    expect(right.status).toBe(200);
    const wrong = await post(`${path}?key=wrong-key`, {}, { contents: [] });
    expect(wrong.status).toBe(400);
    expect(fake.requests.map((request) => request.query['key'])).toEqual(['[redacted]', '[redacted]']);
    expect(JSON.stringify(fake.requests)).not.toContain('right-key');
  });
});
