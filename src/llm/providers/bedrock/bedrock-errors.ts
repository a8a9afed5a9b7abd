import { classifyStatus, parseRetryAfter } from '../../../errors/classify-status.js';
import { GroundworkError } from '../../../errors/groundwork-error.js';
import type { ProviderErrorKind } from '../../../errors/provider-errors.js';
import { isNetworkError } from '../openai/openai-errors.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';

/** Who made the failed request, for the error's facts. */
export interface BedrockErrorContext {
  model: string;
  signal: AbortSignal;
}

/** What the AWS SDK's service exceptions carry. */
interface AwsServiceError extends Error {
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { headers?: Record<string, string | undefined> };
}

/** Bedrock's exceptions whose name says more than their HTTP status. */
const KIND_OF_EXCEPTION: Readonly<Record<string, ProviderErrorKind>> = {
  ThrottlingException: 'rate_limited',
  ModelNotReadyException: 'rate_limited',
  ServiceQuotaExceededException: 'quota_exhausted',
  ModelTimeoutException: 'request_timeout',
  ModelStreamErrorException: 'server_error',
  ModelErrorException: 'server_error',
  UnrecognizedClientException: 'authentication',
  InvalidSignatureException: 'authentication',
  ExpiredTokenException: 'authentication',
  IncompleteSignatureException: 'authentication',
};

/** The kinds of exceptions that come inside a stream, which have no HTTP status of their own. */
const KIND_OF_STREAM_EXCEPTION: Readonly<Record<string, ProviderErrorKind>> = {
  ...KIND_OF_EXCEPTION,
  ServiceUnavailableException: 'server_error',
  InternalServerException: 'server_error',
  ValidationException: 'bad_request',
};

/** The status each kind is reported with when an exception came inside a stream, which has no HTTP status of its own. */
const STREAM_STATUS: Partial<Record<ProviderErrorKind, number>> = { rate_limited: 429, server_error: 500, bad_request: 400 };

/**
 * The SDK's error without its hidden `$response`: that field (non-enumerable, and fixed so it
 * cannot be removed) holds the raw HTTP exchange, request headers and session token included, and
 * `util.inspect` of an error shows its cause chain. The copy keeps the name, message, stack and
 * `$metadata` (status, request id).
 */
function withoutRawResponse(error: Error): Error {
  if (!('$response' in error) && !('$responseBodyText' in error)) return error;
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack !== undefined) copy.stack = error.stack;
  const aws = error as AwsServiceError;
  return Object.assign(copy, {
    ...(aws.$fault === undefined ? {} : { $fault: aws.$fault }),
    ...(aws.$metadata === undefined ? {} : { $metadata: aws.$metadata }),
  });
}

/**
 * Maps anything the AWS SDK throws to Groundwork's error classes: service exceptions by name
 * (`ThrottlingException` is a retryable rate limit, `ServiceQuotaExceededException` an exhausted
 * quota, `ModelTimeoutException` a retryable timeout…) else by status, with the request id and a
 * `Retry-After` when sent; missing credentials are an authentication failure; network failures and
 * unreadable answers as for every provider.
 */
export function mapBedrockError(thrown: unknown, context: BedrockErrorContext): Error {
  const where = { provider: 'bedrock', model: context.model };
  if (context.signal.aborted) return abortedError(context.signal, 'bedrock', context.model);
  if (GroundworkError.isInstance(thrown)) return thrown;
  if (!(thrown instanceof Error)) return new Error(String(thrown));
  const aws = thrown as AwsServiceError;
  const headers = aws.$response?.headers ?? {};
  const error = withoutRawResponse(thrown);
  if (aws.$fault !== undefined || aws.$metadata?.httpStatusCode !== undefined) {
    const status = aws.$metadata?.httpStatusCode;
    const named = KIND_OF_EXCEPTION[error.name];
    if (status === undefined || status < 300) {
      if (named === undefined && error.name === 'SyntaxError')
        return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
      const kind = KIND_OF_STREAM_EXCEPTION[error.name] ?? 'server_error';
      const streamStatus = STREAM_STATUS[kind];
      return providerError(kind, `the stream reported ${error.name}: ${error.message}`, {
        ...where,
        ...(streamStatus === undefined ? {} : { status: streamStatus }),
        cause: error,
      });
    }
    const retryAfterMs = parseRetryAfter({ get: (name) => headers[name] ?? headers[name.toLowerCase()] });
    const requestId = aws.$metadata?.requestId;
    return providerError(named ?? classifyStatus(status), `${error.name}: ${error.message}`, {
      ...where,
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(requestId === undefined ? {} : { requestId }),
      cause: error,
    });
  }
  if (error.name === 'CredentialsProviderError') {
    return providerError(
      'authentication',
      'no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run where a role is attached)',
      {
        ...where,
        cause: error,
      },
    );
  }
  const code = (error as { code?: unknown }).code;
  // The SDK's HTTP handler names a reset or broken pipe `TimeoutError` (to retry it); it is a broken connection.
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return providerError('connection', 'the connection broke', { ...where, cause: error });
  }
  if (error.name === 'TimeoutError' || error.name === 'RequestTimeout')
    return providerError('timeout', 'no answer within the SDK timeout', { ...where, cause: error });
  if (error instanceof SyntaxError || (/JSON|deserializ|Unexpected end/i.test(error.message) && error.name !== 'AbortError')) {
    return providerError('malformed_response', 'the answer was not valid JSON', { ...where, cause: error });
  }
  if (
    isNetworkError(error) ||
    /ECONNRESET|socket hang up|aborted|premature close/i.test(`${error.message} ${(error as { code?: string }).code ?? ''}`)
  ) {
    return providerError('connection', 'could not reach the provider or the connection broke', { ...where, cause: error });
  }
  return error;
}
