import { classifyStatus } from '../../../errors/classify-status.js';
import { GroundworkError } from '../../../errors/groundwork-error.js';
import { UpstreamStatusError, UpstreamStreamError } from '../../http/upstream-status-error.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { streamErrorKind } from '../stream-error-kind.js';

/** Who made the failed request, for the error's facts. */
export interface ErrorContext {
  provider: string;
  model: string;
  signal: AbortSignal;
}

/**
 * Maps anything a request to an OpenAI-family server (OpenAI, Azure, compatible servers) throws
 * to Groundwork's error classes. The provider's code (`insufficient_quota`, `content_filter`)
 * refines the status; the upstream's error is kept as the cause.
 */
export function mapOpenAiError(error: unknown, context: ErrorContext): Error {
  const where = { provider: context.provider, model: context.model };
  if (context.signal.aborted) return abortedError(context.signal, context.provider, context.model);
  if (GroundworkError.isInstance(error)) return error;
  if (error instanceof UpstreamStatusError) {
    const { retryAfterMs, requestId } = error;
    return providerError(classifyStatus(error.status, error.code ?? error.type), error.message, {
      ...where,
      status: error.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(requestId === undefined ? {} : { requestId }),
      cause: error,
    });
  }
  if (error instanceof UpstreamStreamError) {
    // vLLM and others give the status the error would have had as a numeric `code` (`400`, `429`).
    const status = streamErrorStatus(error.error);
    const kind = status === undefined ? streamErrorKind(error.code) : classifyStatus(status, error.code);
    return providerError(kind, `the stream reported an error: ${error.message}`, {
      ...where,
      ...(status === undefined ? {} : { status }),
      cause: error,
    });
  }
  if (isTimeoutError(error)) return providerError('timeout', 'no answer within the client timeout', { ...where, cause: error });
  if (error instanceof SyntaxError) return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
  if (isNetworkError(error)) {
    return providerError('connection', 'could not reach the provider or the connection broke', { ...where, cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The HTTP status a stream's error event gives as its numeric `code`, if it gives one. */
function streamErrorStatus(event: unknown): number | undefined {
  const code = typeof event === 'object' && event !== null ? (event as { code?: unknown }).code : undefined;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code < 600 ? code : undefined;
}

/** Whether `error` is undici's timeout for an answer's headers or between two chunks of its body. */
function isTimeoutError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

/** Whether `error` is a low-level network failure (undici's `terminated`, socket resets). */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_)/.test(code))
    return true;
  return error.name === 'TypeError' && /terminated|fetch failed|socket/i.test(error.message);
}
