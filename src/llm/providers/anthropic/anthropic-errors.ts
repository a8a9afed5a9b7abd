import Anthropic from '@anthropic-ai/sdk';
import { classifyStatus, parseRetryAfter } from '../../../errors/classify-status.js';
import { GroundworkError } from '../../../errors/groundwork-error.js';
import { isNetworkError } from '../openai/openai-errors.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';

/** Who made the failed request, for the error's facts. */
export interface AnthropicErrorContext {
  model: string;
  signal: AbortSignal;
}

/** Maps anything the Anthropic SDK throws to Groundwork's error classes; the body's `error.type` refines the status. */
export function mapAnthropicError(error: unknown, context: AnthropicErrorContext): Error {
  const where = { provider: 'anthropic', model: context.model };
  if (context.signal.aborted) return abortedError(context.signal, 'anthropic', context.model);
  if (GroundworkError.isInstance(error)) return error;
  if (error instanceof Anthropic.APIUserAbortError) return abortedError(AbortSignal.abort(error), 'anthropic', context.model);
  if (error instanceof Anthropic.APIConnectionTimeoutError)
    return providerError('timeout', 'no answer within the SDK timeout', { ...where, cause: error });
  if (error instanceof Anthropic.APIConnectionError) {
    return providerError('connection', 'could not reach the provider or the connection broke', { ...where, cause: error });
  }
  if (error instanceof Anthropic.APIError) {
    const code = error.errorCode ?? error.type ?? undefined;
    const detail = error.apiMessage ?? error.message;
    if (error.status === undefined)
      return providerError('server_error', `the stream reported an error: ${detail}`, { ...where, cause: error });
    const retryAfterMs = parseRetryAfter(error.headers);
    const requestId = error.requestID ?? undefined;
    return providerError(classifyStatus(error.status, code), detail, {
      ...where,
      status: error.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(requestId === undefined ? {} : { requestId }),
      cause: error,
    });
  }
  if (error instanceof SyntaxError) return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
  if (isNetworkError(error)) return providerError('connection', 'the connection broke during the answer', { ...where, cause: error });
  return error instanceof Error ? error : new Error(String(error));
}
