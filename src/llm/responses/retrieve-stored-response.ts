import { ProviderError } from '../../errors/provider-errors.js';
import { linkSignals } from '../../internal/abort.js';
import type { Clock } from '../../internal/clock.js';
import type { CallTarget } from '../call-pipeline.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import { mapOpenAiError } from '../providers/openai/openai-errors.js';
import { ResponseNotFoundError } from './response-not-found-error.js';
import type { ResponseOrigins } from './response-origins.js';
import { type ResponsesTargets, targetLabel } from './responses-targets.js';
import type { ResponseObject } from './responses-types.js';
import type { ResponsesUpstream } from './responses-upstream.js';
import { upstreamHeaders } from './upstream-headers.js';

/** What one retrieval runs with. */
export interface StoredResponseLookup {
  /** The caller's query (`include[]=…`), without `?`. */
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

/** A provider error from an upstream asked, with the upstreams that answered 404 before the search gave up. */
export type RetrievalFailure = ProviderError & { readonly notFoundAt: readonly string[] };

/** One distinct upstream to ask. */
interface Candidate {
  target: CallTarget;
  upstream: ResponsesUpstream;
  label: string;
}

/**
 * `GET /responses/{id}` at the upstream that made the response, when `origins` remembers it, then
 * at every other target that may hold it ({@link ResponsesTargets.holders}) the caller may reach,
 * each distinct upstream (endpoint and credentials) asked once, until one has it.
 *
 * The lookup takes at most `timeoutMs`. The remembered upstream may use all of it; each other
 * upstream is given what is left divided by the number of upstreams still to ask (the last one all
 * that is left), so that one that hangs leaves time for the others. Fetching an upstream's
 * credentials (an Azure token) counts in its share.
 *
 * A 404 moves on. So does another provider failure (401/403, 5xx, its share of time used up,
 * connection, credentials that could not be fetched) of an upstream other than the remembered one:
 * it is noted, and the others are asked, since one of them may hold the id. The first answer found
 * is returned, and its upstream remembered. When none had it and one failed, the first failure is
 * thrown (naming its upstream, with `notFoundAt` and its message naming those that answered 404),
 * since the id may be there; so too when the lookup's time runs out. The remembered upstream made
 * the response, so its failure is thrown at once; when it answers 404 instead, it is forgotten
 * (unless another upstream has been remembered for the id since). A 400 or 422 (an `include[]` the
 * upstream refuses) is the caller's error, thrown at once. When every upstream answered 404, a
 * {@link ResponseNotFoundError} names them. Anything else (the caller's signal aborted, the client
 * closed, a provider not configured) is thrown as it is, at once.
 */
export async function retrieveStoredResponse(id: string, lookup: StoredResponseLookup): Promise<ResponseObject> {
  const { clock, timeoutMs } = lookup;
  const deadline = new AbortController();
  const endsAt = clock.now() + timeoutMs;
  const timer = clock.setTimeout(() => {
    deadline.abort(new DOMException(`no stored response found within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const link = linkSignals(lookup.signal, deadline.signal);
  try {
    return await search(id, lookup, link.signal, endsAt);
  } finally {
    clock.clearTimeout(timer);
    link.dispose();
  }
}

async function search(id: string, lookup: StoredResponseLookup, signal: AbortSignal, endsAt: number): Promise<ResponseObject> {
  const { clock } = lookup;
  const reachable = lookup.reachable ?? (() => true);
  const remembered = lookup.origins.recall(id);
  const origin = remembered !== undefined && reachable(remembered) ? remembered : undefined;
  const candidates = distinct(origin === undefined ? [] : [origin], lookup.targets.holders().filter(reachable), lookup.targets);
  const asked: string[] = [];
  const notFoundAt: string[] = [];
  let failure: ProviderError | undefined;
  for (const [index, { target, upstream, label }] of candidates.entries()) {
    const model = target.deployment === undefined ? target.model : `${target.group}/${target.deployment}`;
    const left = candidates.length - index;
    // The remembered upstream's failure ends the search, and so does the last one's: either may use all that is left.
    const share = target === origin || left === 1 ? undefined : Math.max(0, (endsAt - clock.now()) / left);
    const turn = new AbortController();
    const timer =
      share === undefined
        ? undefined
        : clock.setTimeout(
            () => turn.abort(new DOMException(`${label} did not answer within ${Math.round(share)} ms`, 'TimeoutError')),
            share,
          );
    const request = linkSignals(signal, turn.signal);
    asked.push(label);
    try {
      const stored = upstream.target(`/${encodeURIComponent(id)}`, lookup.query);
      const headers = await upstreamHeaders(upstream, { provider: target.provider, model }, request.signal);
      const answer = await lookup.http().json(stored, 'GET', headers, undefined, request.signal);
      // Found elsewhere than first asked: the next retrieval (a background response polled, say) goes
      // straight there. Under the id asked for, the one every lookup and forget uses.
      if (target !== origin) lookup.origins.remember(id, target);
      return answer.data as ResponseObject;
    } catch (error) {
      const mapped = mapOpenAiError(error, { provider: target.provider, model, signal: request.signal });
      if (lookup.signal?.aborted === true || !ProviderError.isInstance(mapped)) throw mapped;
      if (mapped.kind === 'not_found') {
        notFoundAt.push(label);
        // The remembered upstream no longer has it: forgotten, unless another has been remembered since.
        if (target === origin) lookup.origins.forget(id, origin);
        continue;
      }
      // The caller's query was refused (an unknown `include[]`): every upstream would say the same.
      if (target === origin || isCallersError(mapped)) throw mapped;
      failure ??= mapped;
      // The lookup's time is up: no later upstream can be asked.
      if (signal.aborted) break;
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      request.dispose();
    }
  }
  if (failure !== undefined) throw withNotFound(failure, notFoundAt);
  throw new ResponseNotFoundError(id, asked, lookup.provider);
}

/** The upstreams of `first` then `rest`, each distinct one (endpoint and credentials) once, its first target kept. */
function distinct(first: readonly CallTarget[], rest: readonly CallTarget[], targets: ResponsesTargets): Candidate[] {
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const target of [...first, ...rest]) {
    const upstream = targets.upstream(target);
    // Before the headers: the identity hashes the configured key, and fetches no token, so a duplicate costs no token.
    const identity = upstream.identity();
    if (seen.has(identity)) continue;
    seen.add(identity);
    candidates.push({ target, upstream, label: targetLabel(target) });
  }
  return candidates;
}

/** Whether an upstream refused the request itself (400, 422), not the credentials or its own state. */
function isCallersError(error: ProviderError): boolean {
  return error.status === 400 || error.status === 422;
}

/** `failure`, its message and fields saying which upstreams answered 404. */
function withNotFound(failure: ProviderError, notFoundAt: readonly string[]): RetrievalFailure {
  const where = notFoundAt.length === 0 ? 'no other upstream was asked' : `${notFoundAt.join(', ')} answered 404`;
  failure.message = `${failure.message} (retrieving a stored response: ${where}; the failed upstream may hold it)`;
  return Object.assign(failure, { notFoundAt: Object.freeze([...notFoundAt]) });
}
