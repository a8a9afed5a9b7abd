import { createHash } from 'node:crypto';
import { ProviderError } from '../../errors/provider-errors.js';
import type { UpstreamClient, UpstreamTarget } from '../http/upstream-client.js';
import { mapOpenAiError } from '../providers/openai/openai-errors.js';
import { ResponseNotFoundError } from './response-not-found-error.js';
import type { ResponseOrigins } from './response-origins.js';
import { type ResponsesTargets, targetLabel } from './responses-targets.js';
import type { ResponseObject } from './responses-types.js';

/** What one retrieval runs with. */
export interface StoredResponseLookup {
  /** The caller's query (`include[]=…`), without `?`. */
  query: string | undefined;
  signal: AbortSignal;
  /** The primary provider, named by the error when no upstream has the response. */
  provider: string;
  targets: ResponsesTargets;
  origins: ResponseOrigins;
  http: () => UpstreamClient;
}

/**
 * `GET /responses/{id}` at the upstream that made the response, when `origins` remembers it, then
 * at every other target that may hold it ({@link ResponsesTargets.holders}), each distinct
 * upstream (endpoint and credentials) asked once, until one answers. Only a 404 moves on: any
 * other failure is thrown as that upstream's provider error, naming it. The upstream that had it
 * is remembered for the next retrieval. When none has it, a {@link ResponseNotFoundError} names
 * the upstreams asked.
 */
export async function retrieveStoredResponse(id: string, lookup: StoredResponseLookup): Promise<ResponseObject> {
  const { targets, signal } = lookup;
  const origin = lookup.origins.recall(id);
  const holders = targets.holders();
  const seen = new Set<string>();
  const asked: string[] = [];
  for (const target of origin === undefined ? holders : [origin, ...holders]) {
    const model = target.deployment === undefined ? target.model : `${target.group}/${target.deployment}`;
    try {
      const upstream = targets.upstream(target);
      const headers = await upstream.headers();
      const identity = upstreamIdentity(upstream.target(), headers);
      if (seen.has(identity)) continue;
      seen.add(identity);
      asked.push(targetLabel(target));
      const stored = upstream.target(`/${encodeURIComponent(id)}`, lookup.query);
      const answer = await lookup.http().json(stored, 'GET', headers, undefined, signal);
      // Found elsewhere than first asked: the next retrieval (a background response polled, say) goes straight there.
      if (target !== origin) lookup.origins.remember(id, target);
      return answer.data as ResponseObject;
    } catch (error) {
      const mapped = mapOpenAiError(error, { provider: target.provider, model, signal });
      if (ProviderError.isInstance(mapped) && mapped.kind === 'not_found') continue;
      throw mapped;
    }
  }
  throw new ResponseNotFoundError(id, asked, lookup.provider);
}

/**
 * What makes two upstreams one: where their Responses API is, and the headers sent there
 * (credentials, organisation, project) as a digest only, so that no key is held.
 */
function upstreamIdentity(target: UpstreamTarget, headers: Readonly<Record<string, string>>): string {
  const entries = Object.entries(headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${target.origin}${target.path} ${createHash('sha256').update(JSON.stringify(entries)).digest('hex')}`;
}
