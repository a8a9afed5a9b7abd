import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import { ManualClock } from '../../testing/manual-clock.js';
import { AZURE_KEY, openTwoUpstreams } from './two-upstreams.test-helpers.js';

/*
 * The library's retrieveResponse in front of two upstreams that each keep their own responses,
 * each a fake provider server making ids of its own (`resp_primary_N`, `resp_fallback_N`), so that
 * a response can only be found where it was made: OpenAI as the primary provider, Azure OpenAI as
 * a fallback with the Responses API.
 */

let primary: FakeProviderServer | undefined;
let fallback: FakeProviderServer | undefined;
let infra: Infrastructure | undefined;
let others: Infrastructure[] = [];

afterEach(async () => {
  for (const other of others) await other.close();
  others = [];
  await infra?.close();
  await primary?.close();
  await fallback?.close();
  infra = primary = fallback = undefined;
});

async function start(env: Record<string, string> = {}, clock?: ManualClock) {
  primary = await startFakeProviderServer({ responseIdPrefix: 'resp_primary_' });
  fallback = await startFakeProviderServer({ apiKeys: [AZURE_KEY], responseIdPrefix: 'resp_fallback_' });
  infra = await openTwoUpstreams(primary, fallback, { LLM_CACHE: 'off', ...env }, clock);
  return { primary, fallback, llm: infra.llm };
}

/** The `include[]` of each retrieval an upstream received. */
const includes = (fake: FakeProviderServer) =>
  fake.requests.filter((request) => request.method === 'GET').map((request) => request.query['include[]']);

/** Another client of the same upstreams, which does not remember where any response was made: it asks the primary first. */
async function unremembering(env: Record<string, string> = {}, clock?: ManualClock): Promise<Infrastructure> {
  if (primary === undefined || fallback === undefined) throw new Error('start the upstreams first');
  const other = await openTwoUpstreams(primary, fallback, env, clock);
  others.push(other);
  return other;
}

/** The retrievals an upstream received. */
const gets = (fake: FakeProviderServer) => fake.requests.filter((request) => request.method === 'GET').map((request) => request.path);

/** A response the fallback made (the primary failing), which the client remembers unless `store` is false. */
async function madeByFallback(llm: Infrastructure['llm'], store = true): Promise<string> {
  primary?.enqueue({ type: 'error', status: 500 });
  const made = await llm.respond({ model: 'gpt-4o-mini', input: 'Hi', store });
  if (made.stream) throw new Error('expected a whole answer');
  expect(made.response.id).toMatch(/^resp_fallback_/);
  return made.response.id;
}

describe('retrieveResponse', () => {
  it('does not remember where a response sent with store: false was made', async () => {
    const { llm, primary, fallback } = await start();
    const id = await madeByFallback(llm, false);
    // Were the fallback remembered, its 503 would be the answer at once; the primary is asked first instead.
    fallback.enqueue({ type: 'error', status: 503 });
    const failed = (await llm.retrieveResponse(id).catch((error: unknown) => error)) as Error & { notFoundAt?: readonly string[] };
    expect(failed.message).toContain('HTTP 503');
    expect(failed.notFoundAt).toEqual(['openai']);
    expect(gets(primary)).toEqual([`/v1/responses/${id}`]);
  });

  it('goes on when the remembered upstream answers 404, without asking it again, then forgets the id', async () => {
    const { llm, primary, fallback } = await start();
    const id = await madeByFallback(llm);
    fallback.enqueue({ type: 'error', status: 404 });
    const missing = (await llm.retrieveResponse(id).catch((error: unknown) => error)) as { name: string; asked?: readonly string[] };
    expect(missing).toMatchObject({ name: 'ResponseNotFoundError', asked: ['azure', 'openai'] });
    expect(gets(fallback)).toEqual([`/openai/v1/responses/${id}`]);
    expect(gets(primary)).toEqual([`/v1/responses/${id}`]);
    // Forgotten: the next retrieval asks the primary first, and the fallback's 503 comes after its 404.
    fallback.enqueue({ type: 'error', status: 503 });
    const failed = (await llm.retrieveResponse(id).catch((error: unknown) => error)) as { notFoundAt?: readonly string[] };
    expect(failed.notFoundAt).toEqual(['openai']);
  });

  // A client that does not remember where the response was made asks the primary first; its failure
  // does not hide the fallback's answer (a refused query neither: another upstream may accept it).
  it.each([
    { failure: '401', status: 401, message: 'invalid key', include: undefined },
    { failure: '400 without a query', status: 400, message: 'this id is not one of ours', include: undefined },
    { failure: '400 refusing the query', status: 400, message: 'include[] has an unknown value', include: 'reasoning.encrypted_content' },
  ])('finds a response at a later upstream when an earlier one fails with a $failure', async ({ status, message, include }) => {
    const { llm, primary, fallback } = await start();
    const id = await madeByFallback(llm);
    const second = await unremembering();
    primary.enqueue({ type: 'error', status, message });
    const options = include === undefined ? {} : { query: `include[]=${include}` };
    expect((await second.llm.retrieveResponse(id, options)).id).toBe(id);
    expect(gets(primary)).toEqual([`/v1/responses/${id}`]);
    expect(gets(fallback)).toEqual([`/openai/v1/responses/${id}`]);
    expect([...includes(primary), ...includes(fallback)]).toEqual([include, include]);
  });

  it('answers with the first refusal when every upstream refuses the query', async () => {
    const { llm, primary, fallback } = await start();
    primary.enqueue({ type: 'error', status: 400, message: 'include[] has an unknown value' });
    fallback.enqueue({ type: 'error', status: 422, message: 'include[] is not supported' });
    const failed = await llm.retrieveResponse('resp_fallback_99', { query: 'include[]=nonsense' }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ name: 'BadRequestError', status: 400, provider: 'openai', notFoundAt: [] });
    expect((failed as Error).message).toContain('include[] has an unknown value');
    expect((failed as Error).message).toContain('none answered 404');
    expect(gets(fallback)).toEqual(['/openai/v1/responses/resp_fallback_99']);
    expect(includes(fallback)).toEqual(['nonsense']);
  });

  it("ends at once on the caller's own reason when it aborts mid-search, while the upstream still hangs", async () => {
    const { llm, primary, fallback } = await start();
    primary.enqueue({ type: 'hang' });
    const caller = new AbortController();
    const retrieval = llm.retrieveResponse('resp_elsewhere', { signal: caller.signal }).catch((error: unknown) => error);
    await primary.waitForRequests(1);
    const reason = new Error('the caller went away');
    caller.abort(reason);
    expect(await retrieval).toBe(reason);
    expect(gets(primary)).toEqual(['/v1/responses/resp_elsewhere']);
    // That no later upstream is asked is observed in retrieve-stored-response.test.ts, which counts what each is asked.
    expect(gets(fallback)).toEqual([]);
  });

  it('gives a hanging upstream only its share of the time, so the next one is still asked', async () => {
    const clock = new ManualClock();
    const { llm, primary, fallback } = await start({ LLM_TIMEOUT_MS: '10000' }, clock);
    const id = await madeByFallback(llm);
    const second = await unremembering({ LLM_TIMEOUT_MS: '10000' }, clock);
    // The ledger row of the call that made the response is written: its timer is not the lookup's.
    await llm.flush();
    expect(clock.pendingTimers).toBe(0);
    primary.enqueue({ type: 'hang' });
    const retrieval = second.llm.retrieveResponse(id);
    await primary.waitForRequests(2);
    // The lookup's timer and the primary's share.
    expect(clock.pendingTimers).toBe(2);
    // Two upstreams to ask: the primary has half the lookup's time, and the clock moves no further.
    clock.advance(5000);
    expect((await retrieval).id).toBe(id);
    // Found with no more time passing, and no timer of the lookup left behind.
    expect(clock.pendingTimers).toBe(0);
    expect(gets(primary)).toEqual([`/v1/responses/${id}`]);
    expect(gets(fallback)).toEqual([`/openai/v1/responses/${id}`]);
  });

  it('bounds the whole lookup by one timeout, not one per upstream', async () => {
    const clock = new ManualClock();
    const { llm, primary, fallback } = await start({ LLM_TIMEOUT_MS: '10000' }, clock);
    primary.enqueue({ type: 'hang' });
    fallback.enqueue({ type: 'hang' });
    const retrieval = llm.retrieveResponse('resp_fallback_99').catch((error: unknown) => error);
    await primary.waitForRequests(1);
    clock.advance(5000);
    await fallback.waitForRequests(1);
    // The last upstream has what is left: the lookup ends when its one timeout does, with the first failure.
    clock.advance(5000);
    expect(await retrieval).toMatchObject({ name: 'ProviderTimeoutError', provider: 'openai', notFoundAt: [] });
    expect(gets(primary)).toEqual(['/v1/responses/resp_fallback_99']);
    expect(gets(fallback)).toEqual(['/openai/v1/responses/resp_fallback_99']);
  });

  it('asks an upstream listed twice once, fetching its token once', async () => {
    primary = await startFakeProviderServer();
    let tokens = 0;
    infra = await createInfrastructure({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'azure',
        AZURE_OPENAI_ENDPOINT: primary.azureEndpoint,
        AZURE_OPENAI_DEPLOYMENT: 'main-deploy',
        LLM_FALLBACKS: 'azure:other-deploy',
      },
      envFile: false,
      logger: silentLogger(),
      azureTokenProvider: async () => `token-${++tokens}`,
    });
    const missing = await infra.llm.retrieveResponse('resp_nowhere').catch((error: unknown) => error);
    expect(missing).toMatchObject({ name: 'ResponseNotFoundError', asked: ['azure'] });
    expect(gets(primary)).toEqual(['/openai/v1/responses/resp_nowhere']);
    expect(tokens).toBe(1);
  });
});

describe('retrieveResponse with an Azure token provider', () => {
  async function azureFirst(azureTokenProvider: () => Promise<string>, clock?: ManualClock) {
    primary = await startFakeProviderServer();
    fallback = await startFakeProviderServer({ responseIdPrefix: 'resp_openai_' });
    infra = await createInfrastructure({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'azure',
        AZURE_OPENAI_ENDPOINT: primary.azureEndpoint,
        AZURE_OPENAI_DEPLOYMENT: 'main-deploy',
        LLM_FALLBACKS: 'openai:gpt-4o-mini',
        OPENAI_API_KEY: 'sk-key',
        OPENAI_BASE_URL: fallback.openaiBaseUrl,
        LLM_TIMEOUT_MS: '10000',
      },
      envFile: false,
      logger: silentLogger(),
      azureTokenProvider,
      ...(clock === undefined ? {} : { clock }),
    });
    return { llm: infra.llm, azure: primary, openai: fallback };
  }

  it('asks the next upstream when the token provider fails, and names the failure when none has the response', async () => {
    const { llm, azure, openai } = await azureFirst(async () => {
      throw new Error('no managed identity here');
    });
    const made = await new OpenAI({ apiKey: 'sk-key', baseURL: openai.openaiBaseUrl, maxRetries: 0 }).responses.create({
      model: 'gpt-4o-mini',
      input: 'Hi',
    });
    expect((await llm.retrieveResponse(made.id)).id).toBe(made.id);
    const failed = await llm.retrieveResponse('resp_nowhere').catch((error: unknown) => error);
    expect(failed).toMatchObject({ name: 'AuthenticationError', provider: 'azure', notFoundAt: ['openai'] });
    expect((failed as Error).message).toContain('no managed identity here');
    expect(gets(azure)).toEqual([]);
  });

  it('goes on past a token provider that fails only after its share ended, leaving no unhandled rejection', async () => {
    const clock = new ManualClock();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      let fail!: (error: Error) => void;
      let asked!: () => void;
      const tokenAsked = new Promise<void>((resolve) => {
        asked = resolve;
      });
      const { llm, openai } = await azureFirst(() => {
        asked();
        return new Promise<string>((_, reject) => {
          fail = reject;
        });
      }, clock);
      const made = await new OpenAI({ apiKey: 'sk-key', baseURL: openai.openaiBaseUrl, maxRetries: 0 }).responses.create({
        model: 'gpt-4o-mini',
        input: 'Hi',
      });
      const retrieval = llm.retrieveResponse(made.id);
      await tokenAsked;
      // Azure's share ends; the OpenAI fallback is asked and has the response.
      clock.advance(5000);
      expect((await retrieval).id).toBe(made.id);
      fail(new Error('the token service answered too late'));
      // A rejection nobody handles is reported once the microtasks have run, before the next turn of the event loop.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('ends when the lookup does, however long the token provider takes', async () => {
    const clock = new ManualClock();
    let asked!: () => void;
    const tokenAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const { llm, openai } = await azureFirst(() => {
      asked();
      return new Promise<string>(() => {});
    }, clock);
    const retrieval = llm.retrieveResponse('resp_nowhere').catch((error: unknown) => error);
    await tokenAsked;
    // Azure's token is the first of two upstreams' credentials: half the time, then the OpenAI fallback is asked.
    clock.advance(5000);
    expect(await retrieval).toMatchObject({ name: 'ProviderTimeoutError', provider: 'azure', notFoundAt: ['openai'] });
    expect(gets(openai)).toEqual(['/v1/responses/resp_nowhere']);
  });
});
