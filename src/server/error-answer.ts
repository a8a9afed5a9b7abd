import { GroundworkError } from '../errors/groundwork-error.js';
import { ProviderError, type ProviderErrorKind } from '../errors/provider-errors.js';
import { scrubSecrets } from '../observability/redact.js';
import { type ErrorAnswer, HttpError } from './http-error.js';

/** Groundwork's own limits refusing a call: the caller should slow down (429). The dashboard counts these as rate-limited. */
export const LIMIT_CODES: ReadonlySet<string> = new Set([
  'rate_limit_exceeded',
  'queue_full',
  'queue_timeout',
  'rate_limit_store_unavailable',
  'retry_after_too_long',
  'no_deployment_available',
]);
/** Groundwork protecting an unhealthy provider or itself: try again later (503). */
const UNAVAILABLE_CODES = new Set([
  'circuit_open',
  'pipeline_closed',
  'llm_client_closed',
  'db_closed',
  'db_pool_timeout',
  'db_connection_lost',
]);
/** The request was refused before reaching a provider because its input is invalid (400). */
const INVALID_REQUEST_CODES = new Set(['llm_invalid_request', 'llm_unsupported_params', 'embeddings_unsupported']);
/** A virtual key's refusals: its spend budget (OpenAI's own code for it), its models, its status. */
const TENANT_REFUSALS: Readonly<Record<string, Pick<ErrorAnswer, 'status' | 'type'>>> = {
  insufficient_quota: { status: 429, type: 'insufficient_quota' },
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  model_not_priced: { status: 403, type: 'permission_error' },
};
/** Without a wait hint, refusals still tell the caller to back off this long. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/**
 * Whether `error` says its work may or may not have been applied (a database write or COMMIT whose
 * answer was lost, a stored response's cancel or delete the upstream did not answer): the caller must check its effect before sending the request again.
 */
export function outcomeUnknown(error: unknown): boolean {
  return GroundworkError.isInstance(error) && (error as { outcomeUnknown?: unknown }).outcomeUnknown === true;
}

/**
 * Maps anything a handler threw to the HTTP answer: Groundwork's limiter and queue → 429, an open
 * breaker → 503, the deadline → 504, provider failures by kind, embedding vectors of the wrong
 * length → 400 or 502, everything else → 500 without details. Recognises errors by their `code`, so error classes from any copy of Groundwork agree.
 * Messages are scrubbed of every configured secret.
 */
export function errorAnswer(error: unknown, requestId: string): ErrorAnswer {
  if (error instanceof HttpError) return error.answer;
  if (ProviderError.isInstance(error)) return providerAnswer(error);
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  const retryAfterMs = readRetryAfter(error);
  const message = GroundworkError.isInstance(error) ? scrubSecrets(error.message) : undefined;
  if (code !== undefined && message !== undefined) {
    if (LIMIT_CODES.has(code)) {
      return { status: 429, type: 'rate_limit_error', code, message, param: null, retryAfterMs: retryAfterMs ?? DEFAULT_RETRY_AFTER_MS };
    }
    if (UNAVAILABLE_CODES.has(code)) {
      // A write whose outcome is unknown may have been applied: no hint to send it again.
      if (outcomeUnknown(error)) return { status: 503, type: 'service_unavailable', code, message, param: null };
      return { status: 503, type: 'service_unavailable', code, message, param: null, retryAfterMs: retryAfterMs ?? DEFAULT_RETRY_AFTER_MS };
    }
    if (code === 'embedding_dimensions_mismatch') return dimensionsMismatchAnswer(error, code, message);
    if (INVALID_REQUEST_CODES.has(code)) {
      const param = (error as { param?: unknown }).param;
      return { status: 400, type: 'invalid_request_error', code, message, param: typeof param === 'string' ? param : null };
    }
    const tenantAnswer = TENANT_REFUSALS[code];
    if (tenantAnswer !== undefined) return { ...tenantAnswer, code, message, param: code.startsWith('model_') ? 'model' : null };
    if (code === 'deadline_exceeded') {
      return { status: 504, type: 'timeout_error', code, message, param: null, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    if (retryAfterMs !== undefined) return { status: 429, type: 'rate_limit_error', code, message, param: null, retryAfterMs };
    if (code === 'config_invalid' || code === 'llm_not_configured') {
      return { status: 503, type: 'service_unavailable', code, message, param: null };
    }
  }
  return {
    status: 500,
    type: 'server_error',
    code: 'internal_error',
    message: `The server failed to answer this request; see its log for request id ${requestId}.`,
    param: null,
  };
}

/**
 * Vectors of another length than expected: 400 naming `dimensions` when the call asked a length the
 * model does not return (its to change), else 502, the upstream having answered wrongly. Neither
 * gets a hint to retry: the model answers the same length again.
 */
function dimensionsMismatchAnswer(error: unknown, code: string, message: string): ErrorAnswer {
  if ((error as { param?: unknown }).param === 'dimensions') {
    return { status: 400, type: 'invalid_request_error', code, message, param: 'dimensions' };
  }
  return { status: 502, type: 'server_error', code, message, param: null };
}

function providerAnswer(error: ProviderError): ErrorAnswer {
  const where = error.model === undefined ? error.provider : `${error.provider}/${error.model}`;
  // A request that may have been applied gets no hint to send it again.
  const retry = error.retryAfterMs === undefined || outcomeUnknown(error) ? {} : { retryAfterMs: error.retryAfterMs };
  const message = scrubSecrets(error.message);
  const upstream = (code: string, text: string): ErrorAnswer => ({
    status: 502,
    type: 'server_error',
    code,
    message: text,
    param: null,
    ...retry,
  });
  const byKind: Record<ProviderErrorKind, () => ErrorAnswer> = {
    bad_request: () => ({ status: 400, type: 'invalid_request_error', code: error.code, message, param: null }),
    unprocessable: () => ({ status: 400, type: 'invalid_request_error', code: error.code, message, param: null }),
    content_filter: () => ({ status: 400, type: 'invalid_request_error', code: 'content_filter', message, param: null }),
    not_found: () => ({ status: 404, type: 'not_found_error', code: 'model_not_found', message, param: 'model' }),
    // The provider refused Groundwork's own credentials: the service is misconfigured, not the caller.
    authentication: () =>
      upstream('upstream_authentication', `The provider ${where} rejected the service's credentials; the operator must fix its API key.`),
    permission_denied: () =>
      upstream(
        'upstream_permission_denied',
        `The provider ${where} denied the service's key access to this model; the operator must fix it.`,
      ),
    quota_exhausted: () => ({ status: 429, type: 'rate_limit_error', code: 'insufficient_quota', message, param: null }),
    rate_limited: () => ({ status: 429, type: 'rate_limit_error', code: 'upstream_rate_limited', message, param: null, ...retry }),
    request_timeout: () => upstream(error.code, message),
    conflict: () => upstream(error.code, message),
    server_error: () => upstream(error.code, message),
    timeout: () => upstream(error.code, message),
    connection: () => upstream(error.code, message),
    malformed_response: () => upstream(error.code, message),
  };
  return byKind[error.kind]();
}

function readRetryAfter(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
