import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ContentFilterError,
  MalformedResponseError,
  NotFoundError,
  PermissionDeniedError,
  ProviderConnectionError,
  type ProviderError,
  type ProviderErrorKind,
  type ProviderErrorOptions,
  ProviderServerError,
  ProviderTimeoutError,
  QuotaExhaustedError,
  RateLimitedError,
  RequestTimeoutError,
  UnprocessableEntityError,
} from '../../errors/provider-errors.js';
import { scrubSecrets } from '../../observability/redact.js';

type Constructor = new (detail: string, options: ProviderErrorOptions) => ProviderError;

const CLASSES: Record<ProviderErrorKind, Constructor> = {
  bad_request: BadRequestError,
  authentication: AuthenticationError,
  permission_denied: PermissionDeniedError,
  not_found: NotFoundError,
  request_timeout: RequestTimeoutError,
  conflict: ConflictError,
  unprocessable: UnprocessableEntityError,
  rate_limited: RateLimitedError,
  quota_exhausted: QuotaExhaustedError,
  server_error: ProviderServerError,
  timeout: ProviderTimeoutError,
  connection: ProviderConnectionError,
  content_filter: ContentFilterError,
  malformed_response: MalformedResponseError,
};

/** Builds the subclass for `kind`, with the detail scrubbed of anything shaped like a secret. */
export function providerError(kind: ProviderErrorKind, detail: string, options: ProviderErrorOptions): ProviderError {
  const Class = CLASSES[kind];
  return new Class(scrubSecrets(detail), options);
}
