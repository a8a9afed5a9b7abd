import { GroundworkError } from '../../errors/groundwork-error.js';
import { createProviderError, ProviderError } from '../../errors/provider-errors.js';
import { abortReason, linkSignals } from '../../internal/abort.js';
import type { Clock } from '../../internal/clock.js';
import type { CallTarget } from '../call-pipeline.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import { mapOpenAiError } from '../providers/openai/openai-errors.js';
import { providerError } from '../providers/provider-error-factory.js';
import { ResponseNotFoundError } from './response-not-found-error.js';
import type { ResponseOrigins } from './response-origins.js';
import { type ResponsesTargets, targetLabel } from './responses-targets.js';
import type { ResponseObject } from './responses-types.js';
import type { ResponsesUpstream } from './responses-upstream.js';
import { RETRIEVE, type StoredResponseOperation } from './stored-response-operation.js';
import { upstreamHeaders } from './upstream-headers.js';

/** What one search for a stored response runs with. */
export interface StoredResponseLookup {
  /** The caller's query (`include[]=…`; a list's `limit=…`), without `?`. */
  query: string | undefined;
  /** Ends the whole lookup at once: the caller's cancellation, the client's close. */
  signal?: AbortSignal | undefined;
  /** Time for the whole lookup, in milliseconds, on `clock`; each upstream is given its share of what is left. */
  timeoutMs: number;
  clock: Clock;
  /** The primary provider, named by the error when no upstream has the response. */
  provider: string;
  targets: ResponsesTargets;
  origins: ResponseOrigins;
  http: () => UpstreamClient;
  /** Whether the caller may reach a target; targets it may not are never asked. @default every target */
  reachable?: ((target: CallTarget) => boolean) | undefined;
}

/**
 * A provider error from an upstream asked, with the upstreams that answered 404 before the search
 * gave up. (An upstream that could not be set up from the configuration fails with its own error,
 * `notFoundAt` added the same way.)
 */
export type RetrievalFailure = ProviderError & { readonly notFoundAt: readonly string[] };

/** One distinct upstream to ask, or the error that kept it from being set up. */
type Candidate = { target: CallTarget; label: string } & ({ upstream: ResponsesUpstream } | { upstream?: undefined; unbuilt: Error });

/** `GET /responses/{id}` wherever the response is kept: {@link atStoredResponse} retrieving it. */
export function retrieveStoredResponse(id: string, lookup: StoredResponseLookup): Promise<ResponseObject> {
  return atStoredResponse(id, lookup, RETRIEVE);
}

/**
 * `operation` (retrieve, cancel, delete, list the input items: {@link StoredResponseOperation}) on
 * the response `id` at the upstream that made it, when `origins` remembers it, then at every other
 * target that may hold it ({@link ResponsesTargets.holders}) the caller may reach, each distinct
 * upstream (endpoint and credentials) asked once, until one has it.
 *
 * The lookup takes at most `timeoutMs`. The remembered upstream may use all of it; each other
 * upstream is given what is left divided by the number of upstreams still to ask (the last one all
 * that is left; for a cancel or delete, the operation to send once the holder is found counts as one
 * more), so that one that hangs leaves time for the others. Fetching an upstream's credentials (an
 * Azure token) counts in its share. A request ends when its share or the time is up, even while its
 * connection is still being made. Once the time is up by the clock, no further upstream is asked.
 *
 * A 404 moves on. So does another failure of an upstream other than the remembered one: a provider
 * failure (400, 401/403, 422, 5xx, its share of time used up, connection, credentials that could not
 * be fetched) or a configuration it could not be set up from. It is noted, and the others are asked,
 * since one of them may hold the id. That includes a 400 or 422 whether or not the caller sent a
 * query: upstreams accept different `include[]` values, so one refusing the query does not mean
 * another would, and without a query a refusal cannot be about one. The first answer found is
 * returned, and its upstream remembered (the id forgotten instead, for an operation that removes
 * the response). When none had it and one failed, the first failure is thrown (naming its
 * upstream, with `notFoundAt` and its message naming those that answered 404),
 * since the id may be there: a query every upstream refuses thus comes back as the first one's 400.
 * When the time runs out, the first failure is thrown too, or, when every upstream asked so far
 * answered 404, a timeout naming those not asked. The remembered upstream made the response, so its
 * failure is thrown at once; when it answers 404 instead, it is forgotten (unless another upstream
 * has been remembered for the id since). When every upstream answered 404, a
 * {@link ResponseNotFoundError} names them. A key missing from the configuration is a setup failure
 * like a missing endpoint: noted, unless it is the remembered upstream's. Anything else (the caller's
 * signal aborted, the client closed) is thrown as it is, at once.
 *
 * An operation that changes the response (cancel, delete: {@link StoredResponseOperation.mutates})
 * is sent once, to one upstream: the remembered one, or else the first found holding the id by the
 * search above made as a retrieval (`GET /responses/{id}`, within the same time), which is then
 * sent the operation with all the time left. That upstream's answer is the answer: its refusal
 * (a 400 for a response not made in the background) or failure is thrown as it is, never ranked
 * below another upstream's; a 404 from it (the response removed since it was found) as a
 * {@link ResponseNotFoundError}. When its answer once the request was dispatched leaves it unknown
 * whether the operation was applied (see {@link mayHaveApplied}), the error is not retryable, has
 * `outcomeUnknown: true` and the code `provider_outcome_unknown`, and says to retrieve the response
 * before sending it again. (A
 * remembered upstream answering 404 to the operation is forgotten and the search goes on, as above.)
 */
export async function atStoredResponse<T>(id: string, lookup: StoredResponseLookup, operation: StoredResponseOperation<T>): Promise<T> {
  const { clock, timeoutMs } = lookup;
  const deadline = new AbortController();
  const endsAt = clock.now() + timeoutMs;
  const timer = clock.setTimeout(() => {
    deadline.abort(new DOMException(`${operation.doing} a stored response took more than ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const link = linkSignals(lookup.signal, deadline.signal);
  try {
    return await search(id, lookup, operation, link.signal, endsAt);
  } finally {
    clock.clearTimeout(timer);
    link.dispose();
  }
}

async function search<T>(
  id: string,
  lookup: StoredResponseLookup,
  operation: StoredResponseOperation<T>,
  signal: AbortSignal,
  endsAt: number,
): Promise<T> {
  const { clock } = lookup;
  const reachable = lookup.reachable ?? (() => true);
  const remembered = lookup.origins.recall(id);
  const origin = remembered !== undefined && reachable(remembered) ? remembered : undefined;
  const candidates = distinct(origin === undefined ? [] : [origin], lookup.targets.holders().filter(reachable), lookup.targets);
  const asked: string[] = [];
  const notFoundAt: string[] = [];
  let failure: Error | undefined;
  let unasked: readonly Candidate[] = [];
  for (const [index, candidate] of candidates.entries()) {
    // The lookup is over (the caller left, or the time is up, though its timer may not have run yet): no later upstream is asked, nor blamed.
    if (signal.aborted || endsAt - clock.now() <= 0) {
      unasked = candidates.slice(index);
      break;
    }
    const { target, label } = candidate;
    if (candidate.upstream === undefined) {
      if (target === origin) throw candidate.unbuilt;
      failure ??= candidate.unbuilt;
      continue;
    }
    // A mutation is sent once, to the upstream found holding the id: the others are only asked whether they have it.
    const locating = operation.mutates === true && target !== origin;
    // The mutation that follows a locating retrieval counts as one more request to leave time for.
    const left = candidates.slice(index).filter((next) => next.upstream !== undefined).length + (locating ? 1 : 0);
    // The remembered upstream's failure ends the search, and so does the last one's: either may use all that is left.
    const share = target === origin || left === 1 ? undefined : Math.max(0, (endsAt - clock.now()) / left);
    asked.push(label);
    const built: Built = { target, label, upstream: candidate.upstream };
    const outcome = await ask(id, lookup, built, locating ? RETRIEVE : operation, signal, share);
    if (outcome.ok) {
      if (!locating) return found(id, lookup, target, origin, operation, outcome.data);
      lookup.origins.remember(id, target);
      return mutateAt(id, lookup, built, operation, { signal, endsAt }, asked);
    }
    const mapped = outcome.error;
    if (target === origin) {
      const thrown = holderFailure(id, lookup, target, operation, outcome);
      if (thrown !== undefined) throw thrown;
      notFoundAt.push(label);
      continue;
    }
    if (lookup.signal?.aborted === true) throw mapped;
    // A key missing from the configuration, found only when the credentials are read: as an upstream that cannot be set up.
    if (GroundworkError.isInstance(mapped) && mapped.code === 'llm_not_configured') {
      failure ??= mapped;
      continue;
    }
    if (!ProviderError.isInstance(mapped)) throw mapped;
    if (mapped.kind === 'not_found') {
      notFoundAt.push(label);
      continue;
    }
    failure ??= mapped;
  }
  if (lookup.signal?.aborted === true) throw abortReason(lookup.signal);
  const notAsked = unasked.map((candidate) => candidate.label);
  if (failure !== undefined) throw withNotFound(failure, operation.doing, notFoundAt, candidates.length - notAsked.length, notAsked);
  if (notAsked.length > 0) throw notAskedInTime(lookup, notFoundAt, notAsked);
  throw new ResponseNotFoundError(id, asked, lookup.provider);
}

/** One upstream that can be asked. */
type Built = { target: CallTarget; label: string; upstream: ResponsesUpstream };

/**
 * What one request to an upstream came to: its JSON answer, or the error (mapped as a provider
 * error), with whether the request had been dispatched (a connection up, undici about to write
 * it): a failure before that (DNS, a refused or unreachable host, a connect timeout) sent nothing.
 */
type Outcome = { ok: true; data: unknown } | { ok: false; error: unknown; sent: boolean };

/** `operation` at `candidate`, within `share` of the time (undefined: all that is left of `signal`'s). */
async function ask(
  id: string,
  lookup: StoredResponseLookup,
  candidate: Built,
  operation: StoredResponseOperation<unknown>,
  signal: AbortSignal,
  share: number | undefined,
): Promise<Outcome> {
  const { clock } = lookup;
  const { target, label, upstream } = candidate;
  const model = modelOf(target);
  const turn = new AbortController();
  const timer =
    share === undefined
      ? undefined
      : clock.setTimeout(
          () => turn.abort(new DOMException(`${label} did not answer within ${Math.round(share)} ms`, 'TimeoutError')),
          share,
        );
  const request = linkSignals(signal, turn.signal);
  let sent = false;
  try {
    const stored = upstream.target(`/${encodeURIComponent(id)}${operation.suffix}`, lookup.query);
    const headers = await upstreamHeaders(upstream, { provider: target.provider, model }, request.signal);
    const answer = await lookup.http().json(stored, operation.method, headers, undefined, request.signal, () => {
      sent = true;
    });
    return { ok: true, data: answer.data };
  } catch (error) {
    return { ok: false, error: mapOpenAiError(error, { provider: target.provider, model, signal: request.signal }), sent };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    request.dispose();
  }
}

/** The answer of `operation` at `target`, with where the id is kept remembered (or forgotten, once removed). */
function found<T>(
  id: string,
  lookup: StoredResponseLookup,
  target: CallTarget,
  origin: CallTarget | undefined,
  operation: StoredResponseOperation<T>,
  data: unknown,
): T {
  // Gone from the upstream: nothing left to find there.
  if (operation.removes === true) lookup.origins.drop(id);
  // Found elsewhere than first asked: the next request (a background response polled, say) goes
  // straight there. Under the id asked for, the one every lookup and forget uses.
  else if (target !== origin) lookup.origins.remember(id, target);
  return operation.answer(data);
}

/**
 * The mutation `operation`, sent once to `holder`, found holding the id, with all the time left
 * until `endsAt` (a retryable timeout, nothing sent, when none is). Its failure is thrown as
 * {@link holderFailure} says: a 404 as {@link ResponseNotFoundError} (gone since it was found).
 */
async function mutateAt<T>(
  id: string,
  lookup: StoredResponseLookup,
  holder: Built,
  operation: StoredResponseOperation<T>,
  { signal, endsAt }: { signal: AbortSignal; endsAt: number },
  asked: readonly string[],
): Promise<T> {
  // Nothing sent: retryable. By the clock, since the deadline's timer may not have run yet.
  if (endsAt - lookup.clock.now() <= 0) {
    throw providerError(
      'timeout',
      `the ${lookup.timeoutMs} ms for ${operation.doing} a stored response ran out before it was sent to ${holder.label}`,
      {
        provider: holder.target.provider,
        model: modelOf(holder.target),
      },
    );
  }
  const outcome = await ask(id, lookup, holder, operation, signal, undefined);
  if (outcome.ok) return found(id, lookup, holder.target, holder.target, operation, outcome.data);
  throw holderFailure(id, lookup, holder.target, operation, outcome) ?? new ResponseNotFoundError(id, [...asked], lookup.provider);
}

/**
 * What to throw for `outcome`, a failure of `operation` at `holder`, the upstream remembered or
 * found holding the id: `undefined` for a 404, the id then forgotten there (unless another upstream
 * has been remembered for it since); for a mutation that was sent and may have been applied
 * ({@link mayHaveApplied}), an error saying its outcome is unknown ({@link unknownOutcome}), the id
 * forgotten there when a delete's answer was malformed; else the error as it is.
 */
function holderFailure(
  id: string,
  lookup: StoredResponseLookup,
  holder: CallTarget,
  operation: StoredResponseOperation<unknown>,
  outcome: Extract<Outcome, { ok: false }>,
): unknown {
  const { error } = outcome;
  if (lookup.signal?.aborted === true) return error;
  if (ProviderError.isInstance(error) && error.kind === 'not_found') {
    lookup.origins.forget(id, holder);
    return undefined;
  }
  if (operation.mutates !== true || !outcome.sent || !mayHaveApplied(error)) return error;
  // Deleted or not, the answer does not say it is still kept there.
  if (operation.removes === true && ProviderError.isInstance(error) && error.kind === 'malformed_response')
    lookup.origins.forget(id, holder);
  return unknownOutcome(error, operation, holder);
}

/**
 * Whether a request that was sent and failed with `error` may have been applied: no answer (a
 * timeout, a lost connection, any other failure than an HTTP status), a malformed answer, or a 5xx
 * other than 503. A 503 or 429 refuses the request before acting on it, and a 4xx refuses it.
 */
function mayHaveApplied(error: unknown): boolean {
  if (!ProviderError.isInstance(error)) return true;
  if (error.kind === 'server_error') return error.status !== 503;
  return error.kind === 'timeout' || error.kind === 'connection' || error.kind === 'malformed_response';
}

/** The code of an {@link UnknownOutcomeError}: its kind is the failure's (a timeout, a 502), its code says the outcome is unknown. */
export const OUTCOME_UNKNOWN_CODE = 'provider_outcome_unknown';

/** A provider error whose request may or may not have been applied; see {@link unknownOutcome}. */
export type UnknownOutcomeError = ProviderError & { readonly outcomeUnknown: true };

/**
 * `error` of a mutation sent to `holder` that may have been applied ({@link mayHaveApplied}): sending
 * it again may be answered 404 for a delete that succeeded, so a non-retryable error of the same kind
 * (a connection failure for one that is not a provider error) says so, with `outcomeUnknown: true`
 * (the caller should retrieve the response to see).
 */
function unknownOutcome(error: unknown, operation: StoredResponseOperation<unknown>, holder: CallTarget): UnknownOutcomeError {
  const provider = ProviderError.isInstance(error) ? error : undefined;
  const answer =
    provider?.kind === 'malformed_response'
      ? 'a malformed answer'
      : provider?.status === undefined
        ? 'no answer'
        : `an HTTP ${provider.status} answer`;
  // The error is scrubbed already (a DOMException in its causes has a read-only message).
  const unknown = createProviderError(
    provider?.kind ?? 'connection',
    `${answer} after the request ${operation.doing} a stored response was sent, so it may or may not have been applied`,
    {
      code: OUTCOME_UNKNOWN_CODE,
      advice: 'retrieve the response to see whether it was, before sending it again',
      provider: provider?.provider ?? holder.provider,
      model: provider?.model ?? modelOf(holder),
      ...(provider?.status === undefined ? {} : { status: provider.status }),
      ...(provider?.requestId === undefined ? {} : { requestId: provider.requestId }),
      cause: error,
      retryable: false,
    },
  );
  return Object.assign(unknown, { outcomeUnknown: true as const });
}

function modelOf(target: CallTarget): string {
  return target.deployment === undefined ? target.model : `${target.group}/${target.deployment}`;
}

/**
 * The upstreams of `first` then `rest`, each distinct one (endpoint and credentials) once, its first
 * target kept. A target whose upstream cannot be set up is kept with the error, once per label.
 */
function distinct(first: readonly CallTarget[], rest: readonly CallTarget[], targets: ResponsesTargets): Candidate[] {
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const target of [...first, ...rest]) {
    const label = targetLabel(target);
    let upstream: ResponsesUpstream;
    try {
      upstream = targets.upstream(target);
    } catch (error) {
      if (seen.has(label)) continue;
      seen.add(label);
      candidates.push({ target, label, unbuilt: error instanceof Error ? error : new Error(String(error)) });
      continue;
    }
    // Before the headers: the identity hashes the configured key, and fetches no token, so a duplicate costs no token.
    const identity = upstream.identity();
    if (seen.has(identity)) continue;
    seen.add(identity);
    candidates.push({ target, upstream, label });
  }
  return candidates;
}

/** The lookup's time ran out with every upstream asked so far answering 404: a timeout naming those not asked. */
function notAskedInTime(lookup: StoredResponseLookup, notFoundAt: readonly string[], notAsked: readonly string[]): RetrievalFailure {
  const where = notFoundAt.length === 0 ? '' : `${notFoundAt.join(', ')} answered 404; `;
  const timeout = providerError(
    'timeout',
    `no stored response found within ${lookup.timeoutMs} ms (${where}not asked: ${notAsked.join(', ')})`,
    { provider: lookup.provider },
  );
  return Object.assign(timeout, { notFoundAt: Object.freeze([...notFoundAt]) });
}

/**
 * `failure`, its message and fields saying which upstreams answered 404, out of the `tried` the
 * search reached (asked, or failed to set up), and which the lookup's time left unasked.
 */
function withNotFound<T extends Error>(
  failure: T,
  doing: string,
  notFoundAt: readonly string[],
  tried: number,
  notAsked: readonly string[],
): T & { readonly notFoundAt: readonly string[] } {
  const where =
    notFoundAt.length > 0 ? `${notFoundAt.join(', ')} answered 404` : tried > 1 ? 'none answered 404' : 'no other upstream was asked';
  const late = notAsked.length === 0 ? '' : `; not asked in time: ${notAsked.join(', ')}`;
  failure.message = `${failure.message} (${doing} a stored response: ${where}${late}; the failed upstream may hold it)`;
  return Object.assign(failure, { notFoundAt: Object.freeze([...notFoundAt]) });
}
