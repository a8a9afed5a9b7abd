import { classifyStatus, parseRetryAfter } from '../../errors/classify-status.js';
import { isNetworkError } from '../providers/openai/openai-errors.js';
import { abortedError } from '../providers/provider-abort.js';
import { providerError } from '../providers/provider-error-factory.js';
import type { ResponsesUpstream } from './responses-upstream.js';

/** One request to a Responses API upstream. */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Appended to `/responses`, e.g. `/resp_123`. */
  suffix?: string;
  /** The JSON body, sent as it is. */
  body?: string;
  signal: AbortSignal;
  /** For the error's facts. */
  model: string;
}

/**
 * Sends one request to the upstream's Responses API with Node's `fetch`, and returns its answer
 * once the status line is in. A non-2xx answer is thrown as Groundwork's provider error for its
 * status (retryable or not, `Retry-After` kept, the provider's message scrubbed), a broken
 * connection as a `connection` error, an abort as the signal's reason.
 */
export async function sendUpstream(upstream: ResponsesUpstream, request: UpstreamRequest): Promise<Response> {
  const where = { provider: upstream.provider, model: request.model };
  let response: Response;
  try {
    const headers: Record<string, string> = { ...(await upstream.headers()), accept: 'application/json, text/event-stream' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    response = await fetch(upstream.url(request.suffix), {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: request.signal,
    });
  } catch (error) {
    throw mapFailure(error, request.signal, where);
  }
  if (response.ok) return response;
  const text = await response.text().catch(() => '');
  const { message, code } = readError(text);
  const retryAfterMs = parseRetryAfter(response.headers);
  const requestId = response.headers.get('x-request-id') ?? undefined;
  throw providerError(classifyStatus(response.status, code), message ?? `the provider answered ${response.status}`, {
    ...where,
    status: response.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(requestId === undefined ? {} : { requestId }),
  });
}

/** What broke a request or the reading of its answer, as Groundwork's error. */
export function mapFailure(error: unknown, signal: AbortSignal, where: { provider: string; model: string }): Error {
  if (signal.aborted) return abortedError(signal, where.provider, where.model);
  if (error instanceof SyntaxError) return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
  if (isNetworkError(error) || error instanceof TypeError)
    return providerError('connection', 'could not reach the provider or the connection broke', { ...where, cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

function readError(text: string): { message: string | undefined; code: string | undefined } {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; code?: unknown; type?: unknown } };
    const message = typeof body.error?.message === 'string' ? body.error.message : undefined;
    const code =
      typeof body.error?.code === 'string' ? body.error.code : typeof body.error?.type === 'string' ? body.error.type : undefined;
    return { message, code };
  } catch {
    return { message: undefined, code: undefined };
  }
}
