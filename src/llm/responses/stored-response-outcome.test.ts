import { describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../internal/clock.js';
import { ManualClock } from '../../testing/manual-clock.js';
import type { CallTarget } from '../call-pipeline.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import { ResponseOrigins } from './response-origins.js';
import type { ResponsesTargets } from './responses-targets.js';
import type { ResponsesUpstream } from './responses-upstream.js';
import { atStoredResponse, type StoredResponseLookup } from './retrieve-stored-response.js';
import { DELETE } from './stored-response-operation.js';

/*
 * Whether a cancel or delete sent to the upstream remembered for the response may have been
 * applied: decided by whether the request was dispatched (undici's connection up and the request
 * about to be written), on a manual clock, in front of an HTTP client double.
 */

const AZURE: CallTarget = { provider: 'azure', model: 'main-deploy' };

const upstream: ResponsesUpstream = {
  provider: 'azure',
  target: (suffix = '') => ({ origin: 'https://azure.test', path: `/responses${suffix}` }),
  headers: () => ({}),
  identity: () => 'azure',
} as unknown as ResponsesUpstream;

/** How the double's one request goes: told when it is dispatched (`dispatch`), and the signal it runs under. */
type Exchange = (dispatch: () => void, signal: AbortSignal) => Promise<unknown>;

/** A lookup in which `AZURE` is remembered for `resp_1`, its requests made by `exchange`. */
function lookupWith(exchange: Exchange, clock = new ManualClock()): StoredResponseLookup & { origins: ResponseOrigins } {
  const origins = new ResponseOrigins();
  origins.remember('resp_1', AZURE);
  const targets = { holders: () => [AZURE], upstream: () => upstream } as unknown as ResponsesTargets;
  const http = {
    json: async (_where: unknown, _method: unknown, _headers: unknown, _body: unknown, signal: AbortSignal, dispatch: () => void) => ({
      status: 200,
      data: await asTheClientDoes(exchange(dispatch, signal), signal),
    }),
  } as unknown as UpstreamClient;
  return { query: undefined, timeoutMs: 10_000, clock, provider: 'openai', targets, origins, http: () => http };
}

/**
 * `pending` as UpstreamClient.json settles it: failed with the signal's reason once the signal
 * aborts, whether or not the request was dispatched yet (json-exchange.test.ts shows undici's
 * handler does so while the connection is still being made).
 */
function asTheClientDoes<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  pending.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    pending.then(resolve, reject);
  });
}

/** `exchange`, with a promise settled once the request was made. */
function watched(exchange: Exchange): { exchange: Exchange; made: Promise<void> } {
  let made!: () => void;
  const gate = new Promise<void>((resolve) => {
    made = resolve;
  });
  return {
    exchange: (dispatch, signal) => {
      made();
      return exchange(dispatch, signal);
    },
    made: gate,
  };
}

/** A host that never answers the connection: the request is never dispatched, and settles only as the client fails it on the abort. */
const blackholed: Exchange = () => new Promise<never>(() => undefined);

/** A failure before the connection is up, as undici reports one (DNS here). */
const unresolved: Exchange = async () => {
  throw Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('getaddrinfo ENOTFOUND azure.test'), { code: 'ENOTFOUND' }),
  });
};

/** Dispatched, then no answer until its signal aborts. */
const hanging: Exchange = (dispatch, signal) => {
  dispatch();
  return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
};

describe('a mutation at the remembered upstream', () => {
  it('stays retryable when it failed before being dispatched (DNS)', async () => {
    const failed = await atStoredResponse('resp_1', lookupWith(unresolved), DELETE).catch((error: unknown) => error);
    expect(failed).toMatchObject({ kind: 'connection', provider: 'azure', retryable: true });
    expect((failed as { outcomeUnknown?: unknown }).outcomeUnknown).toBeUndefined();
  });

  it('ends at the deadline while the connection hangs, retryable since nothing was sent', async () => {
    const clock = new ManualClock();
    const { exchange, made } = watched(blackholed);
    const deleting = atStoredResponse('resp_1', lookupWith(exchange, clock), DELETE).catch((error: unknown) => error);
    await made;
    clock.advance(10_000);
    const failed = await deleting;
    expect(failed).toMatchObject({ kind: 'timeout', provider: 'azure', retryable: true });
    expect((failed as { outcomeUnknown?: unknown }).outcomeUnknown).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('says the outcome is unknown when it was dispatched and no answer came', async () => {
    const clock = new ManualClock();
    const { exchange, made } = watched(hanging);
    const deleting = atStoredResponse('resp_1', lookupWith(exchange, clock), DELETE).catch((error: unknown) => error);
    await made;
    clock.advance(10_000);
    expect(await deleting).toMatchObject({ kind: 'timeout', provider: 'azure', retryable: false, outcomeUnknown: true });
  });

  it('says the outcome is unknown when it failed otherwise than with an HTTP status after it was dispatched (a protocol error on the open connection)', async () => {
    const tls: Exchange = async (dispatch) => {
      dispatch();
      throw Object.assign(new Error('write EPROTO wrong version number'), { code: 'EPROTO' });
    };
    const failed = await atStoredResponse('resp_1', lookupWith(tls), DELETE).catch((error: unknown) => error);
    expect(failed).toMatchObject({ kind: 'connection', provider: 'azure', retryable: false, outcomeUnknown: true });
    expect((failed as Error).cause).toMatchObject({ code: 'EPROTO' });
  });
});

const OPENAI: CallTarget = { provider: 'openai', model: 'gpt-4o-mini' };

/** A lookup remembering nothing, over the primary then `AZURE`, each request to `name` made by `exchanges[name]` with its method. */
function searchOver(
  exchanges: Record<'openai' | 'azure', (signal: AbortSignal, method: string) => Promise<unknown>>,
  clock: Clock,
): StoredResponseLookup {
  const upstreamOf = (name: 'openai' | 'azure'): ResponsesUpstream =>
    ({
      ...upstream,
      provider: name,
      target: () => ({ origin: `https://${name}.test`, path: '/responses/resp_1' }),
      identity: () => name,
    }) as unknown as ResponsesUpstream;
  const targets = {
    holders: () => [OPENAI, AZURE],
    upstream: (target: CallTarget) => upstreamOf(target === OPENAI ? 'openai' : 'azure'),
  } as unknown as ResponsesTargets;
  const http = {
    json: async (
      where: { origin: string },
      method: string,
      _headers: unknown,
      _body: unknown,
      signal: AbortSignal,
      dispatch: () => void,
    ) => {
      dispatch();
      const name = where.origin === 'https://openai.test' ? 'openai' : 'azure';
      return { status: 200, data: await asTheClientDoes(exchanges[name](signal, method), signal) };
    },
  } as unknown as UpstreamClient;
  return { query: undefined, timeoutMs: 9_000, clock, provider: 'openai', targets, origins: new ResponseOrigins(), http: () => http };
}

describe('a mutation found by retrieval', () => {
  it('leaves a share of the time for the mutation: a hanging first upstream gets a third of it, not half', async () => {
    const clock = new ManualClock();
    let primary: AbortSignal | undefined;
    const methods: string[] = [];
    const deleting = atStoredResponse(
      'resp_1',
      searchOver(
        {
          openai: (signal) => {
            primary = signal;
            return new Promise<never>(() => undefined);
          },
          azure: async (_signal, method) => {
            methods.push(method);
            return { id: 'resp_1', deleted: true };
          },
        },
        clock,
      ),
      DELETE,
    );
    const asked = await vi.waitFor(() => {
      if (primary === undefined) throw new Error('the primary was not asked yet');
      return primary;
    });
    clock.advance(2999);
    expect(asked.aborted).toBe(false);
    clock.advance(1);
    expect(asked.aborted).toBe(true);
    expect(await deleting).toEqual({ id: 'resp_1', deleted: true });
    expect(methods).toEqual(['GET', 'DELETE']);
  });

  it('is not sent, and stays retryable, when the time is up by the clock though its timer has not run yet', async () => {
    let now = 0;
    /** A busy event loop: the time passes, the timers due have not run. */
    const late: Clock = { now: () => now, setTimeout: () => ({}), clearTimeout: () => undefined };
    const methods: string[] = [];
    const found = async (_signal: AbortSignal, method: string) => {
      methods.push(method);
      now += 9_000;
      return { id: 'resp_1', object: 'response' };
    };
    const failed = await atStoredResponse('resp_1', searchOver({ openai: found, azure: found }, late), DELETE).catch(
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ kind: 'timeout', provider: 'openai', retryable: true });
    expect((failed as { outcomeUnknown?: unknown }).outcomeUnknown).toBeUndefined();
    expect(methods).toEqual(['GET']);
  });
});
