import { request } from 'node:http';
import OpenAI, { type APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { storedRequests } from '../../testing/stored-requests.test-helpers.js';
import { STACK_API_KEY } from '../service-stack.test-helpers.js';
import { responsesStacksWithFallback } from './responses-stacks.test-helpers.js';

/*
 * POST /v1/responses/{id}/cancel, DELETE /v1/responses/{id} and GET /v1/responses/{id}/input_items
 * over HTTP through a real `serve`, with the official SDK, in front of two upstreams that each keep
 * their own responses: OpenAI (the primary provider, ids `resp_fake_N`) and Azure OpenAI (a
 * fallback with the Responses API, ids `resp_azure_N`, taking only its own key). Every answer is
 * checked against OpenAI's spec (responses-stacks.test-helpers.ts).
 */

const AZURE_KEY = 'azure-fallback-operations-key';
const { start, withFallback } = responsesStacksWithFallback(AZURE_KEY, 'resp_azure_');

const asked = storedRequests;

/** `method` on `url` with its path sent exactly as written, with the stack's key. */
function rawRequest(url: string, method: string): Promise<{ status: number; body: string }> {
  const { hostname, port, origin } = new URL(url);
  const path = url.slice(origin.length);
  return new Promise((resolve, reject) => {
    const sent = request({ hostname, port, path, method, headers: { authorization: `Bearer ${STACK_API_KEY}` } }, (answer) => {
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => {
        body += chunk;
      });
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

/** A response made at the Azure upstream directly, as another process of the service would have: this one never saw its id. */
async function madeElsewhere(fallback: FakeProviderServer, background = false): Promise<string> {
  const direct = new OpenAI({ apiKey: AZURE_KEY, baseURL: `${fallback.azureEndpoint}/openai/v1`, maxRetries: 0 });
  const input = [
    { role: 'developer' as const, content: 'Answer in one word.' },
    { role: 'user' as const, content: 'Hi' },
  ];
  return (await direct.responses.create({ model: 'fallback-deploy', input, background })).id;
}

describe('cancelling a background response', () => {
  it('cancels it at the upstream that made it, found by asking each in turn', async () => {
    const { client, primary, fallback } = await withFallback();
    const id = await madeElsewhere(fallback, true);
    const cancelled = await client.responses.cancel(id);
    expect(cancelled).toMatchObject({ id, status: 'cancelled', background: true });
    expect((await client.responses.retrieve(id)).status).toBe('cancelled');
    // Found by retrieval, then cancelled only there; found once, it is asked for where it was found.
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
    expect(asked(fallback)).toEqual([
      `GET /openai/v1/responses/${id}`,
      `POST /openai/v1/responses/${id}/cancel`,
      `GET /openai/v1/responses/${id}`,
    ]);
  });

  it("passes on the upstream's 400 for a response not made in the background", async () => {
    const { client, fallback } = await withFallback();
    const id = await madeElsewhere(fallback);
    const refused = (await client.responses.cancel(id).catch((caught: unknown) => caught)) as APIError;
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.message).toContain('Cannot cancel a synchronous response.');
    expect(refused.headers?.get('x-should-retry')).toBe('false');
  });

  it('finds it when the other upstream is down', async () => {
    const { client, primary, fallback } = await withFallback();
    const id = await madeElsewhere(fallback, true);
    primary.enqueue({ type: 'error', status: 503 });
    expect((await client.responses.cancel(id)).status).toBe('cancelled');
    // The primary was asked, and its 503 used.
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
    expect(primary.queued).toBe(0);
  });

  it("answers with the holder's refusal rather than the other upstream's failure that may pass", async () => {
    const { client, primary, fallback } = await withFallback();
    const id = await madeElsewhere(fallback);
    primary.enqueue({ type: 'error', status: 503 });
    const refused = (await client.responses.cancel(id).catch((caught: unknown) => caught)) as APIError;
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.message).toContain('Cannot cancel a synchronous response.');
    expect(refused.headers?.get('x-should-retry')).toBe('false');
    expect(primary.queued).toBe(0);
  });
});

describe('deleting a stored response', () => {
  it('deletes it where it is kept, then no upstream has it', async () => {
    const { client, primary, fallback, stack } = await withFallback();
    const id = await madeElsewhere(fallback);
    const answer = await fetch(`${stack.baseUrl}/responses/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${STACK_API_KEY}` },
    });
    expect([answer.status, await answer.json()]).toEqual([200, { id, object: 'response', deleted: true }]);
    const missing = (await client.responses.delete(id).catch((caught: unknown) => caught)) as APIError;
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.code).toBe('response_not_found');
    expect(missing.message).toContain(`No response with id "${id}" at any upstream asked (openai, azure)`);
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`, `GET /v1/responses/${id}`]);
  });

  it('says a delete the holder never answered may have happened, and stops the SDK retrying it', async () => {
    const { stack, checker, primary, fallback } = await withFallback();
    const id = await madeElsewhere(fallback);
    // Found by its retrieval; the connection then lost after the delete was sent.
    fallback.enqueue({ type: 'answer' }, { type: 'reset' });
    const retrying = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 2, fetch: checker.fetch });
    const failed = (await retrying.responses.delete(id).catch((caught: unknown) => caught)) as APIError;
    expect(failed.status).toBe(502);
    expect(failed.code).toBe('provider_outcome_unknown');
    expect(failed.message).toContain('may or may not have been applied — not retryable, retrieve the response to see whether it was');
    expect(failed.headers?.get('x-should-retry')).toBe('false');
    // Sent once: the SDK, free to retry twice, did not.
    expect(asked(fallback)).toEqual([`GET /openai/v1/responses/${id}`, `DELETE /openai/v1/responses/${id}`]);
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
  });

  it('deletes through the SDK, finding it when the other upstream is down', async () => {
    const { client, primary, fallback, checker } = await withFallback();
    const id = await madeElsewhere(fallback);
    primary.enqueue({ type: 'error', status: 500 });
    await client.responses.delete(id);
    // The primary was asked, and its 500 used.
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
    expect(primary.queued).toBe(0);
    await expect(client.responses.retrieve(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // The deletion's answer was checked (the 404 is not an answer to check).
    await checker.problems();
    expect(checker.checked).toBe(1);
  });

  it('answers a failure of every upstream with the first, saying which answered 404', async () => {
    const { client, primary } = await withFallback();
    primary.enqueue({ type: 'error', status: 503 });
    const failed = (await client.responses.delete('resp_maybe_at_primary').catch((caught: unknown) => caught)) as APIError;
    expect(failed.status).toBe(502);
    expect(failed.message).toContain('HTTP 503');
    expect(failed.message).toContain('deleting a stored response: azure answered 404');
    // A 503 may pass: the SDK is left free to retry.
    expect(failed.headers?.get('x-should-retry')).toBeNull();
  });
});

describe('listing the input items of a stored response', () => {
  it('lists them page by page from where the response is kept, the query passed on', async () => {
    const { client, primary, fallback, checker } = await withFallback();
    const id = await madeElsewhere(fallback);
    const first = await client.responses.inputItems.list(id, { limit: 1, order: 'asc' });
    expect(first.data).toMatchObject([
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Answer in one word.' }] },
    ]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(id, { limit: 1, order: 'asc' }))
      all.push(item.type === 'message' ? item.role : '');
    expect(all).toEqual(['developer', 'user']);
    expect(fallback.requests.filter((request) => request.path.endsWith('/input_items')).map((request) => request.query)).toEqual([
      { limit: '1', order: 'asc' },
      { limit: '1', order: 'asc' },
      { limit: '1', order: 'asc', after: first.data[0]!.id },
    ]);
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}/input_items`]);
    // Each page was checked against ResponseItemList.
    await checker.problems();
    expect(checker.checked).toBe(3);
  });

  it("passes on the upstream's refusal of a page it cannot give", async () => {
    const { client, fallback } = await withFallback();
    const id = await madeElsewhere(fallback);
    const refused = (await client.responses.inputItems.list(id, { limit: 500 }).catch((caught: unknown) => caught)) as APIError;
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.message).toContain("Invalid 'limit'");
  });

  it('answers 404 naming every upstream asked for an unknown id', async () => {
    const { client } = await withFallback();
    const missing = (await client.responses.inputItems.list('resp_nowhere').catch((caught: unknown) => caught)) as APIError;
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.message).toContain('No response with id "resp_nowhere" at any upstream asked (openai, azure)');
  });
});

describe('the routes of a stored response', () => {
  it.each([
    ['PUT', '/responses/resp_1', 'GET, HEAD, DELETE'],
    ['GET', '/responses/resp_1/cancel', 'POST'],
    ['DELETE', '/responses/resp_1/input_items', 'GET, HEAD'],
  ])('answers %s %s with 405 naming what the path accepts', async (method, path, allow) => {
    const { stack } = await withFallback();
    const answer = await fetch(`${stack.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${STACK_API_KEY}` } });
    expect([answer.status, answer.headers.get('allow')]).toEqual([405, allow]);
    expect(stack.fake.requests).toEqual([]);
  });

  it.each([
    ['GET', '/responses/%2e'],
    ['DELETE', '/responses/%2E'],
    ['POST', '/responses/%2e%2e/cancel'],
    ['GET', '/responses/.%2e/input_items'],
    ['GET', '/responses/%2e/'],
  ])('refuses %s %s, whose id is a dot segment, with a 400 naming the id, asking no upstream', async (method, path) => {
    const { stack, fallback } = await withFallback();
    // Sent as written: a WHATWG URL (fetch's) would resolve the dot segments before sending.
    const answer = await rawRequest(`${stack.baseUrl}${path}`, method);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_response_id', param: 'response_id' },
    });
    expect(JSON.parse(answer.body).error.message).toMatch(/^The response id "\.{1,2}" names no response/);
    expect([...stack.fake.requests, ...fallback.requests]).toEqual([]);
  });

  it('answers HEAD on the input items as GET, without a body', async () => {
    const { stack, fallback } = await withFallback();
    const id = await madeElsewhere(fallback);
    const answer = await fetch(`${stack.baseUrl}/responses/${id}/input_items`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${STACK_API_KEY}` },
    });
    expect([answer.status, answer.headers.get('content-type'), await answer.text()]).toEqual([200, 'application/json; charset=utf-8', '']);
    expect(asked(fallback)).toEqual([`GET /openai/v1/responses/${id}/input_items`]);
  });

  it('lets an allowed page delete a response: the preflight allows DELETE', async () => {
    const origin = 'https://app.example.com';
    const { stack } = await start({ SERVER_CORS_ORIGINS: origin });
    const preflight = await fetch(`${stack.baseUrl}/responses/resp_1`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')?.split(', ')).toContain('DELETE');
  });

  it('refuses a caller without a key before asking any upstream', async () => {
    const { stack, fallback } = await withFallback();
    const stranger = new OpenAI({ apiKey: 'gw-wrong-key', baseURL: stack.baseUrl, maxRetries: 0 });
    await expect(stranger.responses.cancel('resp_1')).rejects.toMatchObject({ status: 401 });
    await expect(stranger.responses.delete('resp_1')).rejects.toMatchObject({ status: 401 });
    await expect(stranger.responses.inputItems.list('resp_1')).rejects.toMatchObject({ status: 401 });
    expect([...stack.fake.requests, ...fallback.requests]).toEqual([]);
  });
});

describe('stored responses in front of a provider whose responses are translated', () => {
  it('answers 404 response_not_stored for each operation', async () => {
    const { client } = await start({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-upstream-secret' });
    for (const operation of [
      () => client.responses.cancel('resp_1'),
      () => client.responses.delete('resp_1'),
      () => client.responses.inputItems.list('resp_1'),
    ]) {
      await expect(operation()).rejects.toMatchObject({ status: 404, code: 'response_not_stored' });
    }
  });
});
