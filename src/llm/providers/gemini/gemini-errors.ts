import { classifyStatus } from '../../../errors/classify-status.js';
import { GroundworkError } from '../../../errors/groundwork-error.js';
import type { ProviderErrorKind } from '../../../errors/provider-errors.js';
import { isNetworkError } from '../openai/openai-errors.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';

/** Who made the failed request, for the error's facts. */
export interface GeminiErrorContext {
  model: string;
  signal: AbortSignal;
}

/** Google's error body: `{ error: { code, message, status, details } }`. */
interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ '@type'?: string; retryDelay?: string; reason?: string }>;
}

/** The error body the SDK put in the message of its `ApiError` (it carries the whole body as JSON text). */
function errorBody(message: string): GoogleErrorBody {
  const start = message.indexOf('{');
  if (start < 0) return {};
  try {
    const parsed = JSON.parse(message.slice(start)) as { error?: GoogleErrorBody };
    return typeof parsed.error === 'object' && parsed.error !== null ? parsed.error : {};
  } catch {
    return {};
  }
}

/** `RetryInfo.retryDelay` (`"7s"`, `"1.5s"`) in milliseconds. */
function retryDelayMs(body: GoogleErrorBody): number | undefined {
  const delay = body.details?.find((detail) => detail['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const match = delay === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(delay);
  return match === null ? undefined : Math.round(Number(match[1]) * 1000);
}

/**
 * The kind of a Google API error: the status, refined by the body. A key Google does not accept
 * (`API_KEY_INVALID`, sent as 400) is an authentication failure; a 429 that says to check the plan
 * and billing is an exhausted quota, not a rate limit; other 429s (`RESOURCE_EXHAUSTED`) and 503s
 * (`UNAVAILABLE`) are retryable.
 */
function kindOf(status: number, body: GoogleErrorBody): ProviderErrorKind {
  if (body.details?.some((detail) => detail.reason === 'API_KEY_INVALID')) return 'authentication';
  if (status === 429 && /billing|plan and billing|quota exceeded for quota metric .*per ?day/i.test(body.message ?? ''))
    return 'quota_exhausted';
  return classifyStatus(status, body.status);
}

/** Maps anything the Google Gen AI SDK throws to Groundwork's error classes. */
export function mapGeminiError(error: unknown, context: GeminiErrorContext): Error {
  const where = { provider: 'gemini', model: context.model };
  if (context.signal.aborted) return abortedError(context.signal, 'gemini', context.model);
  if (GroundworkError.isInstance(error)) return error;
  if (!(error instanceof Error)) return new Error(String(error));
  if (error.name === 'ApiError' && typeof (error as { status?: unknown }).status === 'number') {
    const status = (error as unknown as { status: number }).status;
    const body = errorBody(error.message);
    const retryAfterMs = retryDelayMs(body);
    return providerError(kindOf(status, body), body.message ?? error.message, {
      ...where,
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      cause: error,
    });
  }
  if (error.name === 'AbortError' || error.name === 'TimeoutError') {
    return providerError('timeout', 'no answer within the SDK timeout', { ...where, cause: error });
  }
  if (error instanceof SyntaxError || /^exception parsing stream chunk|incomplete json segment/i.test(error.message)) {
    return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
  }
  if (isNetworkError(error))
    return providerError('connection', 'could not reach the provider or the connection broke', { ...where, cause: error });
  return error;
}
