import { classifyStatus, parseRetryAfter } from '../../../errors/classify-status.js';
import { GroundworkError } from '../../../errors/groundwork-error.js';
import type { ProviderErrorKind } from '../../../errors/provider-errors.js';
import { isNetworkError } from '../openai/openai-errors.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { streamErrorKind } from '../stream-error-kind.js';
import { type AnthropicSdk, loadedAnthropicSdk } from './anthropic-sdk.js';

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
  // The SDK's own errors can only come from a loaded SDK (it loads when the provider is created).
  const Anthropic = loadedAnthropicSdk();
  if (Anthropic !== undefined) {
    const mapped = mapSdkError(Anthropic, error, where, context);
    if (mapped !== undefined) return mapped;
  }
  if (error instanceof SyntaxError) return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
  if (isNetworkError(error)) return providerError('connection', 'the connection broke during the answer', { ...where, cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

/** The SDK's own error classes mapped to Groundwork's; undefined for anything else. */
function mapSdkError(
  Anthropic: AnthropicSdk,
  error: unknown,
  where: { provider: string; model: string },
  context: AnthropicErrorContext,
): Error | undefined {
  if (error instanceof Anthropic.APIUserAbortError) return abortedError(AbortSignal.abort(error), 'anthropic', context.model);
  if (error instanceof Anthropic.APIConnectionTimeoutError)
    return providerError('timeout', 'no answer within the SDK timeout', { ...where, cause: error });
  if (error instanceof Anthropic.APIConnectionError) {
    return providerError('connection', 'could not reach the provider or the connection broke', { ...where, cause: error });
  }
  if (error instanceof Anthropic.APIError) {
    const code = error.errorCode ?? error.type ?? undefined;
    const detail = error.apiMessage ?? error.message;
    // An `error` event inside the stream: no status, only the error's type says what happened.
    if (error.status === undefined)
      return providerError(streamErrorKind(error.type), `the stream reported ${error.type ?? 'an error'}: ${detail}`, {
        ...where,
        cause: error,
      });
    const retryAfterMs = parseRetryAfter(error.headers);
    const requestId = error.requestID ?? undefined;
    return providerError(kindOfStatus(error.status, code, detail), detail, {
      ...where,
      status: error.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(requestId === undefined ? {} : { requestId }),
      cause: error,
    });
  }
  return undefined;
}

/**
 * Anthropic answers a spent prepaid balance with a 400 `invalid_request_error` ("Your credit balance
 * is too low to access the Anthropic API"), not with its `billing_error`: the request is not at
 * fault, the account is, and another deployment may answer it.
 */
const CREDIT_TOO_LOW = /credit balance is too low/i;

/** The kind of an error answered with `status`: the status and the error's type, refined by its words. */
function kindOfStatus(status: number, code: string | undefined, detail: string): ProviderErrorKind {
  if (status === 400 && CREDIT_TOO_LOW.test(detail)) return 'quota_exhausted';
  return classifyStatus(status, code);
}
