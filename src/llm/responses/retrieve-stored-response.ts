import { ProviderError } from '../../errors/provider-errors.js';
import type { CallTarget } from '../call-pipeline.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import { mapOpenAiError } from '../providers/openai/openai-errors.js';
import { ResponseNotFoundError } from './response-not-found-error.js';
import type { ResponseOrigins } from './response-origins.js';
import { type ResponsesTargets, targetLabel } from './responses-targets.js';
import type { ResponseObject } from './responses-types.js';

/** What one retrieval runs with. */
export interface StoredResponseLookup {
  /** The caller's query (`include[]=…`), without `?`. */
  query: string | undefined;
  /** Ends the whole lookup: the caller's cancellation, the client's close, the lookup's deadline. */
  signal: AbortSignal;
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

/**
 * `GET /responses/{id}` at the upstream that made the response, when `origins` remembers it, then
 * at every other target that may hold it ({@link ResponsesTargets.holders}) the caller may reach,
 * each distinct upstream (endpoint and credentials) asked once, until one has it.
 *
 * A 404 moves on. So does another provider failure (401/403, 5xx, timeout, connection) of an
 * upstream other than the remembered one: it is noted, and the others are asked, since one of them
 * may hold the id. The first answer found is returned, and its upstream remembered. When none had
 * it and one failed, the first failure is thrown (naming its upstream, with `notFoundAt` and its
 * message naming those that answered 404), since the id may be there. The remembered upstream made
 * the response, so its failure is thrown at once. When every upstream answered 404, the id is
 * forgotten and a {@link ResponseNotFoundError} names them. Anything else (the signal aborted, the
 * client closed, a provider not configured) is thrown as it is, at once.
 */
export async function retrieveStoredResponse(id: string, lookup: StoredResponseLookup): Promise<ResponseObject> {
  const { targets, signal } = lookup;
  const reachable = lookup.reachable ?? (() => true);
  const remembered = lookup.origins.recall(id);
  const origin = remembered !== undefined && reachable(remembered) ? remembered : undefined;
  const holders = targets.holders().filter(reachable);
  const seen = new Set<string>();
  const asked: string[] = [];
  const notFoundAt: string[] = [];
  let failure: ProviderError | undefined;
  for (const target of origin === undefined ? holders : [origin, ...holders]) {
    const model = target.deployment === undefined ? target.model : `${target.group}/${target.deployment}`;
    const label = targetLabel(target);
    try {
      const upstream = targets.upstream(target);
      // Before the headers: a duplicate costs no credential read, and no token fetch.
      const identity = upstream.identity();
      if (seen.has(identity)) continue;
      seen.add(identity);
      asked.push(label);
      const stored = upstream.target(`/${encodeURIComponent(id)}`, lookup.query);
      const answer = await lookup.http().json(stored, 'GET', await upstream.headers(), undefined, signal);
      const found = answer.data as ResponseObject;
      // Found elsewhere than first asked: the next retrieval (a background response polled, say) goes straight there.
      if (target !== origin) lookup.origins.remember(typeof found['id'] === 'string' && found['id'] !== '' ? found['id'] : id, target);
      return found;
    } catch (error) {
      const mapped = mapOpenAiError(error, { provider: target.provider, model, signal });
      if (signal.aborted || !ProviderError.isInstance(mapped)) throw mapped;
      if (mapped.kind === 'not_found') {
        notFoundAt.push(label);
        continue;
      }
      if (target === origin) throw mapped;
      failure ??= mapped;
    }
  }
  lookup.origins.forget(id);
  if (failure !== undefined) throw withNotFound(failure, notFoundAt);
  throw new ResponseNotFoundError(id, asked, lookup.provider);
}

/** `failure`, its message and fields saying which upstreams answered 404. */
function withNotFound(failure: ProviderError, notFoundAt: readonly string[]): RetrievalFailure {
  const where = notFoundAt.length === 0 ? 'no other upstream was asked' : `${notFoundAt.join(', ')} answered 404`;
  failure.message = `${failure.message} (retrieving a stored response: ${where}; the failed upstream may hold it)`;
  return Object.assign(failure, { notFoundAt: Object.freeze([...notFoundAt]) });
}
