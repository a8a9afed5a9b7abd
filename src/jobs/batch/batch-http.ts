import type { UpstreamClient, UpstreamTarget } from '../../llm/http/upstream-client.js';
import { UpstreamStatusError } from '../../llm/http/upstream-status-error.js';
import { scrubSecrets } from '../../observability/redact.js';
import { BatchProviderError } from './batch-errors.js';

/** What a batch transport sends through: the pooled client and the headers of the next request. */
export interface BatchHttp {
  readonly client: UpstreamClient;
  /** Read before every request, so a rotated key is used; may be a promise (Entra tokens). */
  readonly headers: () => Record<string, string> | Promise<Record<string, string>>;
}

/** Sends one request and parses its JSON answer; an error status becomes a {@link BatchProviderError}. */
export async function sendJson(
  http: BatchHttp,
  target: UpstreamTarget,
  method: 'GET' | 'POST',
  body: string | undefined,
  signal: AbortSignal,
  extraHeaders: Record<string, string> = {},
): Promise<unknown> {
  try {
    const answer = await http.client.json(target, method, { ...(await http.headers()), ...extraHeaders }, body, signal);
    return answer.data;
  } catch (error) {
    throw batchError(error);
  }
}

/** Sends one request and returns its answer as text (a JSON Lines file). */
export async function sendText(http: BatchHttp, target: UpstreamTarget, signal: AbortSignal): Promise<string> {
  try {
    const headers = { ...(await http.headers()), accept: 'application/octet-stream, application/x-jsonl, application/json' };
    return (await http.client.text(target, 'GET', headers, undefined, signal)).text;
  } catch (error) {
    throw batchError(error);
  }
}

/** The error of a Batch API request, its message free of secrets. */
export function batchError(error: unknown): unknown {
  if (error instanceof UpstreamStatusError) {
    return new BatchProviderError(error.status, scrubSecrets(`the provider's Batch API answered ${error.status}: ${error.message}`));
  }
  return error;
}
