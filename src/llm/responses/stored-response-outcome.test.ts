import { describe, expect, it } from 'vitest';
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
      data: await exchange(dispatch, signal),
    }),
  } as unknown as UpstreamClient;
  return { query: undefined, timeoutMs: 10_000, clock, provider: 'openai', targets, origins, http: () => http };
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

/** A host that never answers the connection: undici is told of the abort only once connected, so the request outlasts it. */
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

  it('says the outcome is unknown when it failed otherwise than with an HTTP status after it was dispatched (TLS)', async () => {
    const tls: Exchange = async (dispatch) => {
      dispatch();
      throw Object.assign(new Error('write EPROTO wrong version number'), { code: 'EPROTO' });
    };
    const failed = await atStoredResponse('resp_1', lookupWith(tls), DELETE).catch((error: unknown) => error);
    expect(failed).toMatchObject({ kind: 'connection', provider: 'azure', retryable: false, outcomeUnknown: true });
    expect((failed as Error).cause).toMatchObject({ code: 'EPROTO' });
  });
});
