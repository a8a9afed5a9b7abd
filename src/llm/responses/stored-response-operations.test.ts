import { afterEach, describe, expect, it } from 'vitest';
import type { Infrastructure } from '../../infrastructure.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import { ManualClock } from '../../testing/manual-clock.js';
import { storedRequests } from '../../testing/stored-requests.test-helpers.js';
import type { ResponseInputItemsQuery } from './response-input-items-query.js';
import { AZURE_KEY, openTwoUpstreams } from './two-upstreams.test-helpers.js';

/*
 * The library's cancelResponse, deleteResponse and listResponseInputItems in front of two upstreams
 * that each keep their own responses (`resp_primary_N`, `resp_fallback_N`): OpenAI as the primary
 * provider, Azure OpenAI as a fallback with the Responses API. They find the response as
 * retrieveResponse does (retrieve-response.test.ts and retrieve-stored-response.test.ts cover that
 * search); these tests show each one goes through it.
 */

let primary: FakeProviderServer;
let fallback: FakeProviderServer;
let opened: Infrastructure[] = [];

afterEach(async () => {
  for (const infra of opened) await infra.close();
  opened = [];
  await primary?.close();
  await fallback?.close();
});

async function start(env: Record<string, string> = {}, clock?: ManualClock): Promise<Infrastructure['llm']> {
  primary = await startFakeProviderServer({ responseIdPrefix: 'resp_primary_' });
  fallback = await startFakeProviderServer({ apiKeys: [AZURE_KEY], responseIdPrefix: 'resp_fallback_' });
  return client(env, clock);
}

/** A client of the two upstreams; another one remembers nothing of where the first made its responses. */
async function client(env: Record<string, string> = {}, clock?: ManualClock): Promise<Infrastructure['llm']> {
  const infra = await openTwoUpstreams(primary, fallback, { LLM_CACHE: 'off', ...env }, clock);
  opened.push(infra);
  return infra.llm;
}

/** What an upstream was asked after the calls that made responses, as `METHOD path?query`. */
const asked = (fake: FakeProviderServer) => storedRequests(fake, { query: true });

/** The messages of `error`'s causes, one a line. */
function causes(error: unknown): string {
  const messages: string[] = [];
  for (let cause = (error as Error).cause; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
  return messages.join('\n');
}

/** A response the fallback made (the primary failing), in the background when asked. */
async function madeByFallback(llm: Infrastructure['llm'], background = false): Promise<string> {
  primary.enqueue({ type: 'error', status: 500 });
  const made = await llm.respond({ model: 'gpt-4o-mini', input: [{ role: 'user', content: 'Hi' }], background });
  if (made.stream) throw new Error('expected a whole answer');
  expect(made.response.id).toMatch(/^resp_fallback_/);
  return made.response.id;
}

describe('cancelResponse', () => {
  it('cancels a background response where it was made, finding it by retrieval first when this client does not know where', async () => {
    const id = await madeByFallback(await start(), true);
    const cancelled = await (await client()).cancelResponse(id);
    expect(cancelled).toMatchObject({ id, status: 'cancelled', background: true });
    // The cancel itself is sent once, only to the upstream that holds the response.
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
    expect(asked(fallback)).toEqual([`GET /openai/v1/responses/${id}`, `POST /openai/v1/responses/${id}/cancel`]);
  });

  it("answers with the holder's refusal, not an earlier upstream's failure that may pass", async () => {
    const id = await madeByFallback(await start());
    primary.enqueue({ type: 'error', status: 503 });
    const refused = await (await client()).cancelResponse(id).catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: 'BadRequestError', status: 400, provider: 'azure', retryable: false });
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
    expect(primary.queued).toBe(0);
  });

  it("throws the remembered upstream's failure at once, asking no other", async () => {
    const llm = await start();
    const id = await madeByFallback(llm, true);
    fallback.enqueue({ type: 'error', status: 503 });
    await expect(llm.cancelResponse(id)).rejects.toMatchObject({ name: 'ProviderServerError', status: 503, provider: 'azure' });
    expect(asked(primary)).toEqual([]);
    expect(asked(fallback)).toEqual([`POST /openai/v1/responses/${id}/cancel`]);
  });

  it('says the outcome is unknown when the remembered upstream does not answer a cancel it was sent, asking no other', async () => {
    const clock = new ManualClock();
    const llm = await start({ LLM_TIMEOUT_MS: '10000' }, clock);
    const id = await madeByFallback(llm, true);
    fallback.enqueue({ type: 'hang' });
    const cancelling = llm.cancelResponse(id).catch((error: unknown) => error);
    await fallback.waitForRequests(2);
    clock.advance(10_000);
    const failure = await cancelling;
    expect(failure).toMatchObject({
      kind: 'timeout',
      code: 'provider_outcome_unknown',
      provider: 'azure',
      retryable: false,
      outcomeUnknown: true,
    });
    // One advice, not the timeout's own "try again later".
    expect((failure as Error).message).toMatch(
      /no answer after the request cancelling a stored response was sent, so it may or may not have been applied — not retryable, retrieve the response to see whether it was, before sending it again$/,
    );
    // Found, not missing: its cause says the time ran out, not that none was found.
    expect(causes(failure)).not.toMatch(/no stored response found/);
    expect(causes(failure)).toMatch(/cancelling a stored response took more than 10000 ms/);
    expect(asked(primary)).toEqual([]);
  });

  it("answers with the upstream's refusal to cancel a response not made in the background, asking no other", async () => {
    const llm = await start();
    const id = await madeByFallback(llm);
    const refused = await llm.cancelResponse(id).catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: 'BadRequestError', status: 400, provider: 'azure' });
    expect((refused as Error).message).toContain('Cannot cancel a synchronous response.');
    expect(asked(primary)).toEqual([]);
  });

  it('gives a hanging upstream only its share of the one lookup time', async () => {
    const clock = new ManualClock();
    const id = await madeByFallback(await start({ LLM_TIMEOUT_MS: '10000' }, clock), true);
    const other = await client({ LLM_TIMEOUT_MS: '10000' }, clock);
    primary.enqueue({ type: 'hang' });
    const cancelling = other.cancelResponse(id);
    const [, hanging] = await primary.waitForRequests(2);
    const aborted = primary.cutByCaller(hanging!);
    // A third of the time, its share of two upstreams and the cancel to follow (stored-response-outcome.test.ts
    // pins it to the millisecond): cut then, not at the end of the time.
    clock.advance(3334);
    await aborted;
    expect((await cancelling).status).toBe('cancelled');
    expect(asked(fallback)).toEqual([`GET /openai/v1/responses/${id}`, `POST /openai/v1/responses/${id}/cancel`]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('deleteResponse', () => {
  it("deletes the response where it is kept, passing on the upstream's answer, then forgets where it was made", async () => {
    const llm = await start();
    const id = await madeByFallback(llm);
    expect(await llm.deleteResponse(id)).toEqual({ id, object: 'response', deleted: true });
    expect(asked(primary)).toEqual([]);
    // Forgotten: the primary is asked first now, then the fallback, which no longer has it.
    await expect(llm.retrieveResponse(id)).rejects.toMatchObject({ name: 'ResponseNotFoundError', asked: ['openai', 'azure'] });
    expect(asked(fallback)).toEqual([`DELETE /openai/v1/responses/${id}`, `GET /openai/v1/responses/${id}`]);
  });

  it('fails with ResponseNotFoundError naming every upstream asked for an id none has', async () => {
    const llm = await start();
    const missing = await llm.deleteResponse('resp_nowhere').catch((error: unknown) => error);
    expect(missing).toMatchObject({ name: 'ResponseNotFoundError', asked: ['openai', 'azure'], responseId: 'resp_nowhere' });
    // Found by retrieval: no delete is sent where the id is not kept.
    expect([...asked(primary), ...asked(fallback)]).toEqual(['GET /v1/responses/resp_nowhere', 'GET /openai/v1/responses/resp_nowhere']);
  });

  it('goes on past an upstream that is down to the one holding the response', async () => {
    const id = await madeByFallback(await start());
    primary.enqueue({ type: 'error', status: 503 });
    expect(await (await client()).deleteResponse(id)).toMatchObject({ id, deleted: true });
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
    expect(primary.queued).toBe(0);
    expect(asked(fallback)).toEqual([`GET /openai/v1/responses/${id}`, `DELETE /openai/v1/responses/${id}`]);
  });

  it('says the outcome is unknown when the holder found does not answer the delete, and does not send it again', async () => {
    const clock = new ManualClock();
    const id = await madeByFallback(await start({ LLM_TIMEOUT_MS: '10000' }, clock));
    const other = await client({ LLM_TIMEOUT_MS: '10000' }, clock);
    // Its retrieval answered, its delete left hanging.
    fallback.enqueue({ type: 'answer' }, { type: 'hang' });
    const deleting = other.deleteResponse(id).catch((error: unknown) => error);
    await fallback.waitForRequests(3);
    clock.advance(10_000);
    expect(await deleting).toMatchObject({ kind: 'timeout', provider: 'azure', retryable: false, outcomeUnknown: true });
    expect(asked(fallback)).toEqual([`GET /openai/v1/responses/${id}`, `DELETE /openai/v1/responses/${id}`]);
  });

  it('says the outcome is unknown when the remembered upstream answers 500, 502 or 504, asking no other', async () => {
    const llm = await start();
    for (const status of [500, 502, 504]) {
      const id = await madeByFallback(llm);
      fallback.enqueue({ type: 'error', status });
      await expect(llm.deleteResponse(id)).rejects.toMatchObject({ status, provider: 'azure', retryable: false, outcomeUnknown: true });
      expect(asked(fallback).at(-1)).toBe(`DELETE /openai/v1/responses/${id}`);
    }
    expect(asked(primary)).toEqual([]);
  });

  it('says the outcome is unknown on a malformed 2xx to a delete, and forgets where the response was', async () => {
    const llm = await start();
    const id = await madeByFallback(llm);
    fallback.enqueue({ type: 'malformed' });
    const failed = await llm.deleteResponse(id).catch((error: unknown) => error);
    expect(failed).toMatchObject({ kind: 'malformed_response', provider: 'azure', retryable: false, outcomeUnknown: true });
    expect((failed as Error).message).toContain('a malformed answer after the request deleting a stored response was sent');
    // Forgotten: the next retrieval searches from the primary.
    await expect(llm.retrieveResponse(id)).resolves.toMatchObject({ id });
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
  });

  it('leaves a delete retryable when the remembered upstream answers 503 or 429: refused before acting', async () => {
    const llm = await start();
    const id = await madeByFallback(llm);
    for (const status of [503, 429]) {
      fallback.enqueue({ type: 'error', status });
      const failed = await llm.deleteResponse(id).catch((error: unknown) => error);
      expect(failed).toMatchObject({ status, provider: 'azure', retryable: true });
      expect((failed as { outcomeUnknown?: unknown }).outcomeUnknown).toBeUndefined();
    }
    expect(asked(primary)).toEqual([]);
  });

  it('leaves a delete retryable when the remembered upstream refused the connection: nothing was sent', async () => {
    const llm = await start();
    const id = await madeByFallback(llm);
    await fallback.close();
    const failed = await llm.deleteResponse(id).catch((error: unknown) => error);
    expect(failed).toMatchObject({ kind: 'connection', provider: 'azure', retryable: true });
    expect((failed as { outcomeUnknown?: unknown }).outcomeUnknown).toBeUndefined();
    expect(asked(primary)).toEqual([]);
  });

  it('forgets the remembered upstream when it answers 404 and goes on finding the id by retrieval', async () => {
    const llm = await start();
    const id = await madeByFallback(llm);
    fallback.enqueue({ type: 'error', status: 404 });
    await expect(llm.deleteResponse(id)).rejects.toMatchObject({ name: 'ResponseNotFoundError', asked: ['azure', 'openai'] });
    expect(asked(fallback)).toEqual([`DELETE /openai/v1/responses/${id}`]);
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`]);
    // Forgotten: the primary is asked first now.
    expect(await llm.deleteResponse(id)).toMatchObject({ id, deleted: true });
    expect(asked(primary)).toEqual([`GET /v1/responses/${id}`, `GET /v1/responses/${id}`]);
  });
});

describe('listResponseInputItems', () => {
  it('lists a page of the input items where the response is kept, with the query written as the SDK writes it', async () => {
    const llm = await start();
    const id = await madeByFallback(llm);
    const page = await llm.listResponseInputItems(id, { query: { limit: 1, order: 'asc', include: ['message.input_image.image_url'] } });
    expect(page).toMatchObject({ object: 'list', has_more: false, data: [{ type: 'message', role: 'user' }] });
    expect(asked(fallback)).toEqual([
      `GET /openai/v1/responses/${id}/input_items?include%5B%5D=message.input_image.image_url&limit=1&order=asc`,
    ]);
    // A query string is passed on as written.
    await llm.listResponseInputItems(id, { query: 'order=desc&limit=5' });
    expect(asked(fallback).at(-1)).toBe(`GET /openai/v1/responses/${id}/input_items?order=desc&limit=5`);
  });

  it('refuses a query it cannot send, naming the field, before asking any upstream', async () => {
    const llm = await start();
    await expect(llm.listResponseInputItems('resp_x', { query: { limit: 0 } })).rejects.toThrow(
      /limit must be a whole number from 1 to 100, not 0/,
    );
    await expect(llm.listResponseInputItems('resp_x', { query: { order: 'up' as 'asc' } })).rejects.toThrow(RangeError);
    await expect(llm.listResponseInputItems('resp_x', { query: { after: '' } })).rejects.toThrow(/after must be an item id/);
    // A string is not a list of names (it would be sent character by character); an unknown field is not dropped.
    await expect(
      llm.listResponseInputItems('resp_x', { query: { include: 'file_search_call.results' as unknown as string[] } }),
    ).rejects.toThrow(new TypeError('include must be an array of field names, not "file_search_call.results"'));
    await expect(
      llm.listResponseInputItems('resp_x', { query: { limit: 5, lmit: 5, sort: 'asc' } as ResponseInputItemsQuery }),
    ).rejects.toThrow(/has no field "lmit", "sort": it takes after, before, include, limit, order/);
    await expect(llm.listResponseInputItems('resp_x', { query: ['limit=5'] as unknown as string })).rejects.toThrow(TypeError);
    await expect(llm.cancelResponse('')).rejects.toThrow(TypeError);
    // Encoded, `.` and `..` stay dot segments, which would name another path at the upstream.
    await expect(llm.retrieveResponse('.')).rejects.toThrow(
      new TypeError(`A stored response's id must be a non-empty string other than "." and "..", not "."`),
    );
    await expect(llm.deleteResponse('..')).rejects.toThrow(/not "\.\."/);
    await expect(llm.cancelResponse('..')).rejects.toThrow(TypeError);
    await expect(llm.listResponseInputItems('.')).rejects.toThrow(TypeError);
    expect([...primary.requests, ...fallback.requests]).toEqual([]);
  });
});
