import OpenAI, { type APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { responsesStacksWithFallback } from './responses-stacks.test-helpers.js';

/*
 * GET /v1/responses/{id} over HTTP through a real `serve`, with the official SDK, in front of two
 * upstreams that each keep their own responses: OpenAI (the primary provider) and Azure OpenAI
 * (a fallback with the Responses API), each a fake provider server that takes only its own key.
 */

const AZURE_KEY = 'azure-fallback-retrieval-key';
const { withFallback } = responsesStacksWithFallback(AZURE_KEY);

/** The retrievals an upstream received. */
const gets = (fake: FakeProviderServer) => fake.requests.filter((request) => request.method === 'GET').map((request) => request.path);

/** A response made at the Azure upstream directly, as another process of the service would have: this one never saw its id. */
async function madeElsewhere(fallback: FakeProviderServer, content: string): Promise<string> {
  fallback.enqueue({ type: 'answer', content });
  const direct = new OpenAI({ apiKey: AZURE_KEY, baseURL: `${fallback.azureEndpoint}/openai/v1`, maxRetries: 0 });
  return (await direct.responses.create({ model: 'fallback-deploy', input: 'Hi' })).id;
}

describe('retrieving a stored response', () => {
  it('asks the fallback that made a response, whole or streamed, and not the primary provider', async () => {
    const { client, primary, fallback } = await withFallback();
    primary.enqueue({ type: 'error', status: 500 });
    fallback.enqueue({ type: 'answer', content: 'made by the fallback' });
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi' });
    expect(fallback.requests.map((request) => request.path)).toEqual(['/openai/v1/responses']);
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved).toMatchObject({ id: created.id, status: 'completed' });
    expect(retrieved.output_text).toBe('made by the fallback');
    primary.enqueue({ type: 'error', status: 503 });
    fallback.enqueue({ type: 'answer', content: 'streamed by the fallback', chunks: 3 });
    const streamed = await client.responses.stream({ model: 'gpt-4o-mini', input: 'Hi' }).finalResponse();
    expect((await client.responses.retrieve(streamed.id)).output_text).toBe('streamed by the fallback');
    expect(gets(primary)).toEqual([]);
    expect(gets(fallback)).toEqual([`/openai/v1/responses/${created.id}`, `/openai/v1/responses/${streamed.id}`]);
  });

  it('finds a response this process never saw made by asking each upstream in turn', async () => {
    const { client, primary, fallback } = await withFallback();
    const id = await madeElsewhere(fallback, 'made by another replica');
    const retrieved = await client.responses.retrieve(id);
    expect(retrieved.output_text).toBe('made by another replica');
    // Found once, it is asked for where it was found: polling it asks the primary no more.
    expect((await client.responses.retrieve(id)).id).toBe(id);
    expect(gets(primary)).toEqual([`/v1/responses/${id}`]);
    expect(gets(fallback)).toEqual([`/openai/v1/responses/${id}`, `/openai/v1/responses/${id}`]);
  });

  it('refuses to retrieve a response as a stream, before asking any upstream, and retrieves it with stream=false', async () => {
    const { client, primary, fallback } = await withFallback();
    const id = await madeElsewhere(fallback, 'made by another replica');
    const refused = (await client.responses.retrieve(id, { stream: true }).catch((caught: unknown) => caught)) as APIError;
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ code: 'unsupported_parameter', param: 'stream' });
    expect(refused.message).toContain('retrieve it without stream');
    expect([...gets(primary), ...gets(fallback)]).toEqual([]);
    expect((await client.responses.retrieve(id, { stream: false })).output_text).toBe('made by another replica');
  });

  it('answers 404 naming every upstream asked when none has the id, each asked once', async () => {
    const { client, primary, fallback } = await withFallback();
    const missing = (await client.responses.retrieve('resp_nowhere').catch((caught: unknown) => caught)) as APIError;
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.code).toBe('response_not_found');
    expect(missing.message).toContain('No response with id "resp_nowhere" at any upstream asked (openai, azure)');
    expect(missing.message).not.toContain(AZURE_KEY);
    expect(missing.message).not.toContain(fallback.url);
    expect(gets(primary)).toEqual(['/v1/responses/resp_nowhere']);
    expect(gets(fallback)).toEqual(['/openai/v1/responses/resp_nowhere']);
  });

  it('reports a failure of the upstream that made the response at once, without asking another', async () => {
    const { client, primary, fallback } = await withFallback();
    // The fallback made it and is asked first: its 503 is the answer, the primary is not asked.
    primary.enqueue({ type: 'error', status: 500 });
    fallback.enqueue({ type: 'answer', content: 'made by the fallback' });
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi' });
    fallback.enqueue({ type: 'error', status: 503 });
    const failed = (await client.responses.retrieve(created.id).catch((caught: unknown) => caught)) as APIError;
    expect(failed.status).toBe(502);
    expect(failed.message).toContain('azure/fallback-deploy');
    expect(failed.message).toContain('HTTP 503');
    expect(gets(primary)).toEqual([]);
  });

  it('goes on past a failure of another upstream, so it never hides a response stored further on', async () => {
    const { client, primary, fallback } = await withFallback();
    const elsewhere = await madeElsewhere(fallback, 'made by another replica');
    primary.enqueue({ type: 'error', status: 401 });
    expect((await client.responses.retrieve(elsewhere)).output_text).toBe('made by another replica');
    primary.enqueue({ type: 'error', status: 503 });
    const again = await madeElsewhere(fallback, 'made again');
    expect((await client.responses.retrieve(again)).output_text).toBe('made again');
    expect(gets(primary)).toEqual([`/v1/responses/${elsewhere}`, `/v1/responses/${again}`]);
  });

  it('reports the failure, and which upstreams answered 404, when no upstream has the id', async () => {
    const { client, primary, fallback } = await withFallback();
    primary.enqueue({ type: 'error', status: 503 });
    const failed = (await client.responses.retrieve('resp_maybe_at_primary').catch((caught: unknown) => caught)) as APIError;
    expect(failed.status).toBe(502);
    expect(failed.message).toContain('openai');
    expect(failed.message).toContain('HTTP 503');
    expect(failed.message).toContain('azure answered 404');
    expect(gets(primary)).toEqual(['/v1/responses/resp_maybe_at_primary']);
    expect(gets(fallback)).toEqual(['/openai/v1/responses/resp_maybe_at_primary']);
  });
});
