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
  details?: GoogleErrorDetail[];
}

/** One entry of `details`: `RetryInfo`, `ErrorInfo`, `QuotaFailure`, … (only the fields read here). */
interface GoogleErrorDetail {
  '@type'?: string;
  retryDelay?: string;
  reason?: string;
  violations?: Array<{ quotaId?: string; quotaMetric?: string; quotaValue?: string }>;
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

/** The `quotaId`s (or metrics) of a `QuotaFailure`'s violations, such as `GenerateRequestsPerDayPerProjectPerModel-FreeTier`. */
function quotaViolations(body: GoogleErrorBody): Array<{ id: string; value: string | undefined }> {
  return (body.details ?? [])
    .filter((detail) => detail['@type']?.endsWith('google.rpc.QuotaFailure'))
    .flatMap((detail) => detail.violations ?? [])
    .map((violation) => ({ id: violation.quotaId ?? violation.quotaMetric ?? '', value: violation.quotaValue }));
}

/**
 * Whether a 429 means a spent quota rather than a rate limit. Google sends the same words ("You
 * exceeded your current quota, please check your plan and billing details") for both, so the
 * message cannot tell; the `QuotaFailure` violations can: a per-day quota, or a quota of 0 (a
 * model the plan does not include), will not come back within a retry, while a per-minute one
 * will, after the `RetryInfo` delay. Without violations, only a message naming a per-day quota
 * metric (as Vertex AI words it) is a spent quota.
 */
function quotaSpent(body: GoogleErrorBody): boolean {
  const violations = quotaViolations(body);
  if (violations.length === 0) return /quota exceeded for quota metric .*per ?day/i.test(body.message ?? '');
  return violations.some((violation) => /per ?day/i.test(violation.id) || violation.value === '0');
}

/**
 * The kind of a Google API error: the status, refined by the body. A key Google does not accept
 * (`API_KEY_INVALID`, sent as 400) is an authentication failure; a 429 for a spent quota
 * ({@link quotaSpent}) is an exhausted quota, not a rate limit; other 429s (`RESOURCE_EXHAUSTED`,
 * per-minute limits included) and 503s (`UNAVAILABLE`) are retryable.
 */
function kindOf(status: number, body: GoogleErrorBody): ProviderErrorKind {
  if (body.details?.some((detail) => detail.reason === 'API_KEY_INVALID')) return 'authentication';
  if (status === 429) return quotaSpent(body) ? 'quota_exhausted' : 'rate_limited';
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
