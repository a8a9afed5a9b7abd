export { classifyStatus, parseRetryAfter } from './classify-status.js';
export { ConfigError, type ConfigIssue, formatConfigIssue } from './config-error.js';
export { GroundworkError, type GroundworkErrorOptions } from './groundwork-error.js';
export {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ContentFilterError,
  createProviderError,
  MalformedResponseError,
  NotFoundError,
  PermissionDeniedError,
  PROVIDER_ERROR_KINDS,
  ProviderConnectionError,
  ProviderError,
  type ProviderErrorKind,
  type ProviderErrorOptions,
  ProviderServerError,
  ProviderTimeoutError,
  QuotaExhaustedError,
  RateLimitedError,
  RequestTimeoutError,
  UnprocessableEntityError,
} from './provider-errors.js';
