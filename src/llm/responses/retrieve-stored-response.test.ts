import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/manual-clock.js';
import type { CallTarget } from '../call-pipeline.js';
import type { UpstreamClient, UpstreamTarget } from '../http/upstream-client.js';
import { UpstreamStatusError } from '../http/upstream-status-error.js';
import { LlmNotConfiguredError } from '../providers/provider-settings.js';
import { ResponseOrigins } from './response-origins.js';
import type { ResponsesTargets } from './responses-targets.js';
import type { ResponseObject } from './responses-types.js';
import type { ResponsesUpstream } from './responses-upstream.js';
import { retrieveStoredResponse, type StoredResponseLookup } from './retrieve-stored-response.js';

/*
 * The search on its own, in front of upstreams that are small doubles: each counts what was asked
 * of it (its URL built, its headers fetched) and answers as its test says, on a manual clock.
 */

/** How a double answers a retrieval: with the response, a status, or never (`undefined`). */
type Answer = { status: number } | { found: true } | undefined;

interface Double {
  upstream: ResponsesUpstream;
  /** Times its URL was built, then its headers fetched: each retrieval asked of it does both. */
  built: number;
  headers: number;
  answer: () => Promise<Answer>;
}

function double(name: string, provider: 'openai' | 'azure', answer: () => Promise<Answer>): Double {
  const entry: Double = {
    built: 0,
    headers: 0,
    answer,
    upstream: {
      provider,
      target: (suffix = '') => {
        entry.built += 1;
        return { origin: `https://${name}.test`, path: `/responses${suffix}` };
      },
      headers: () => {
        entry.headers += 1;
        return {};
      },
      identity: () => name,
    },
  };
  return entry;
}

/** A lookup over `holders`, each target's upstream its double (or the error building it throws). */
function lookupOver(
  holders: ReadonlyArray<{ target: CallTarget; double: Double } | { target: CallTarget; unbuilt: Error }>,
  options: { clock?: ManualClock; origins?: ResponseOrigins; query?: string | undefined; signal?: AbortSignal } = {},
): StoredResponseLookup {
  const byOrigin = new Map<string, Double>();
  for (const holder of holders) if ('double' in holder) byOrigin.set(`https://${holder.double.upstream.identity()}.test`, holder.double);
  const targets = {
    holders: () => holders.map((holder) => holder.target),
    upstream: (target: CallTarget) => {
      const holder = holders.find((entry) => entry.target === target);
      if (holder === undefined) throw new Error('not a holder');
      if ('unbuilt' in holder) throw holder.unbuilt;
      return holder.double.upstream;
    },
  } as unknown as ResponsesTargets;
  const http = {
    json: async (where: UpstreamTarget, _method: string, _headers: unknown, _body: unknown, signal: AbortSignal) => {
      const answer = await (byOrigin.get(where.origin) as Double).answer();
      // As a real request does, it ends when its signal aborts, whatever the upstream would have answered.
      if (signal.aborted) throw signal.reason;
      if (answer === undefined) {
        return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
      if ('found' in answer) return { status: 200, data: { id: 'resp_1', object: 'response' } as ResponseObject };
      throw new UpstreamStatusError(answer.status, {}, JSON.stringify({ error: { message: `status ${answer.status}` } }));
    },
  } as unknown as UpstreamClient;
  return {
    query: options.query,
    signal: options.signal,
    timeoutMs: 10_000,
    clock: options.clock ?? new ManualClock(),
    provider: 'openai',
    targets,
    origins: options.origins ?? new ResponseOrigins(),
    http: () => http,
  };
}

const OPENAI: CallTarget = { provider: 'openai', model: 'gpt-4o-mini' };
const AZURE: CallTarget = { provider: 'azure', model: 'main-deploy' };
const GROUPED: CallTarget = { provider: 'azure', model: 'gpt-4o', group: 'chat', deployment: 'east' };

describe('retrieveStoredResponse', () => {
  it('asks no further upstream once the time is up, and blames none it did not ask', async () => {
    const clock = new ManualClock();
    /** The deadline passes while the remembered upstream's 404 is handled. */
    class LateOrigins extends ResponseOrigins {
      override forget(id: string, target: CallTarget): void {
        super.forget(id, target);
        clock.advance(10_000);
      }
    }
    const origins = new LateOrigins();
    origins.remember('resp_1', OPENAI);
    const remembered = double('openai', 'openai', async () => ({ status: 404 }));
    const next = double('azure', 'azure', async () => ({ found: true }));
    const failed = await retrieveStoredResponse(
      'resp_1',
      lookupOver(
        [
          { target: OPENAI, double: remembered },
          { target: AZURE, double: next },
        ],
        { clock, origins },
      ),
    ).catch((error: unknown) => error);
    expect(failed).toMatchObject({ name: 'ProviderTimeoutError', provider: 'openai', notFoundAt: ['openai'] });
    expect((failed as Error).message).toContain('not asked: azure');
    expect([next.built, next.headers]).toEqual([0, 0]);
  });

  it('answers with the first failure when the time runs out, naming the upstreams left unasked', async () => {
    const clock = new ManualClock();
    // The first upstream answers only once the whole lookup's time has passed.
    const slow = double('openai', 'openai', async () => {
      clock.advance(10_000);
      return { found: true };
    });
    const second = double('azure', 'azure', async () => ({ found: true }));
    const third = double('east', 'azure', async () => ({ found: true }));
    const failed = await retrieveStoredResponse(
      'resp_1',
      lookupOver(
        [
          { target: OPENAI, double: slow },
          { target: AZURE, double: second },
          { target: GROUPED, double: third },
        ],
        { clock },
      ),
    ).catch((error: unknown) => error);
    expect(failed).toMatchObject({ name: 'ProviderTimeoutError', provider: 'openai', notFoundAt: [] });
    expect((failed as Error).message).toContain('not asked in time: azure, azure deployment chat/east');
    expect([second.built, third.built]).toEqual([0, 0]);
  });

  it('says none answered 404 when every upstream asked failed otherwise', async () => {
    const first = double('openai', 'openai', async () => ({ status: 400 }));
    const last = double('azure', 'azure', async () => ({ status: 503 }));
    const holders = [
      { target: OPENAI, double: first },
      { target: AZURE, double: last },
    ];
    const failed = await retrieveStoredResponse('resp_1', lookupOver(holders)).catch((error: unknown) => error);
    expect(failed).toMatchObject({ name: 'BadRequestError', provider: 'openai', notFoundAt: [] });
    expect((failed as Error).message).toContain('(retrieving a stored response: none answered 404; the failed upstream may hold it)');
  });

  it('ends on the caller’s reason when it aborts, asking nothing of the upstreams after', async () => {
    const caller = new AbortController();
    let asked!: () => void;
    const hanging = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const first = double('openai', 'openai', async () => {
      asked();
      return undefined;
    });
    const next = double('azure', 'azure', async () => ({ found: true }));
    const retrieval = retrieveStoredResponse(
      'resp_1',
      lookupOver(
        [
          { target: OPENAI, double: first },
          { target: AZURE, double: next },
        ],
        { signal: caller.signal },
      ),
    ).catch((error: unknown) => error);
    await hanging;
    const reason = new Error('the caller went away');
    caller.abort(reason);
    expect(await retrieval).toBe(reason);
    expect([first.built, first.headers]).toEqual([1, 1]);
    expect([next.built, next.headers]).toEqual([0, 0]);
  });

  it('asks the others when an upstream cannot be set up, and finds the response at a later one', async () => {
    const first = double('openai', 'openai', async () => ({ status: 404 }));
    const last = double('east', 'azure', async () => ({ found: true }));
    const found = await retrieveStoredResponse(
      'resp_1',
      lookupOver([
        { target: OPENAI, double: first },
        { target: AZURE, unbuilt: new LlmNotConfiguredError('azure', ['AZURE_OPENAI_ENDPOINT']) },
        { target: GROUPED, double: last },
      ]),
    );
    expect(found.id).toBe('resp_1');
    expect([first.built, last.built]).toEqual([1, 1]);
  });

  it('asks the others when an upstream turns out to have no key, and finds the response at a later one', async () => {
    const first = double('openai', 'openai', async () => ({ status: 404 }));
    const keyless = double('azure', 'azure', async () => ({ found: true }));
    keyless.upstream.headers = () => {
      throw new LlmNotConfiguredError('azure', ['AZURE_OPENAI_API_KEY']);
    };
    const last = double('east', 'azure', async () => ({ found: true }));
    const found = await retrieveStoredResponse(
      'resp_1',
      lookupOver([
        { target: OPENAI, double: first },
        { target: AZURE, double: keyless },
        { target: GROUPED, double: last },
      ]),
    );
    expect(found.id).toBe('resp_1');
    expect([first.built, keyless.built, last.built]).toEqual([1, 1, 1]);
  });

  it('answers with the setup failure, naming the upstreams that answered 404, when none has the response', async () => {
    const first = double('openai', 'openai', async () => ({ status: 404 }));
    const last = double('east', 'azure', async () => ({ status: 404 }));
    const failed = await retrieveStoredResponse(
      'resp_1',
      lookupOver([
        { target: OPENAI, double: first },
        { target: AZURE, unbuilt: new LlmNotConfiguredError('azure', ['AZURE_OPENAI_ENDPOINT']) },
        { target: GROUPED, double: last },
      ]),
    ).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(LlmNotConfiguredError);
    expect(failed).toMatchObject({ notFoundAt: ['openai', 'azure deployment chat/east'] });
    expect((failed as Error).message).toContain('AZURE_OPENAI_ENDPOINT');
  });

  it('goes on past a 400 with or without a query, and answers with the first one when none has the response', async () => {
    for (const query of [undefined, 'include[]=message.output_text.logprobs']) {
      const first = double('openai', 'openai', async () => ({ status: 400 }));
      const last = double('azure', 'azure', async () => ({ status: 404 }));
      const holders = [
        { target: OPENAI, double: first },
        { target: AZURE, double: last },
      ];
      const failed = await retrieveStoredResponse('resp_1', lookupOver(holders, { query })).catch((error: unknown) => error);
      expect(failed).toMatchObject({ name: 'BadRequestError', status: 400, provider: 'openai', notFoundAt: ['azure'] });
      expect(last.built).toBe(1);
    }
  });
});
