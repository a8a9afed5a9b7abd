import OpenAI from 'openai';
import { classifyStatus, parseRetryAfter } from '../../../errors/classify-status.js';
import { GroundworkError } from '../../../errors/groundwork-error.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';

/** Who made the failed request, for the error's facts. */
export interface ErrorContext {
  provider: string;
  model: string;
  signal: AbortSignal;
}

/**
 * Maps anything the OpenAI SDK (also for Azure and OpenAI-compatible servers) throws to
 * Groundwork's error classes. The provider's code (`insufficient_quota`, `content_filter`) refines the status.
 */
export function mapOpenAiError(error: unknown, context: ErrorContext): Error {
  const where = { provider: context.provider, model: context.model };
  if (context.signal.aborted) return abortedError(context.signal, context.provider, context.model);
  if (GroundworkError.isInstance(error)) return error;
  if (error instanceof OpenAI.APIUserAbortError) return abortedError(AbortSignal.abort(error), context.provider, context.model);
  if (error instanceof OpenAI.APIConnectionTimeoutError)
    return providerError('timeout', 'no answer within the SDK timeout', { ...where, cause: error });
  if (error instanceof OpenAI.APIConnectionError) {
    return providerError('connection', 'could not reach the provider or the connection broke', { ...where, cause: error });
  }
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    const code = typeof error.code === 'string' ? error.code : (error.type ?? undefined);
    const retryAfterMs = parseRetryAfter(error.headers);
    const requestId = error.requestID ?? undefined;
    return providerError(classifyStatus(error.status, code), error.message, {
      ...where,
      status: error.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(requestId === undefined ? {} : { requestId }),
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIError)
    return providerError('server_error', `the stream reported an error: ${error.message}`, { ...where, cause: error });
  if (error instanceof SyntaxError) return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
  if (isNetworkError(error)) return providerError('connection', 'the connection broke during the answer', { ...where, cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

/** Whether `error` is a low-level network failure (undici's `terminated`, socket resets). */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_)/.test(code)) return true;
  return error.name === 'TypeError' && /terminated|fetch failed|socket/i.test(error.message);
}
