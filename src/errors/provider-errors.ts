import { GroundworkError } from './groundwork-error.js';

/**
 * Every way a call to an LLM provider can fail, classified once at the adapter.
 * `retryable` and `countsAgainstProviderHealth` follow from the kind (see {@link PROVIDER_ERROR_KINDS}).
 */
export type ProviderErrorKind =
  | 'bad_request'
  | 'authentication'
  | 'permission_denied'
  | 'not_found'
  | 'request_timeout'
  | 'conflict'
  | 'unprocessable'
  | 'rate_limited'
  | 'quota_exhausted'
  | 'server_error'
  | 'timeout'
  | 'connection'
  | 'content_filter'
  | 'malformed_response';

interface KindFacts {
  retryable: boolean;
  /** Whether the failure says the provider is unhealthy (the circuit breaker counts these). */
  unhealthy: boolean;
  advice: string;
}

/** The classification table: one place that says what each kind means. */
export const PROVIDER_ERROR_KINDS: Readonly<Record<ProviderErrorKind, KindFacts>> = Object.freeze({
  bad_request: { retryable: false, unhealthy: false, advice: 'fix the request' },
  authentication: { retryable: false, unhealthy: false, advice: 'check the API key' },
  permission_denied: { retryable: false, unhealthy: false, advice: 'check the key’s permissions for this model' },
  not_found: { retryable: false, unhealthy: false, advice: 'check the model or deployment name and the base URL' },
  request_timeout: { retryable: true, unhealthy: true, advice: 'try again later' },
  conflict: { retryable: true, unhealthy: false, advice: 'try again later' },
  unprocessable: { retryable: false, unhealthy: false, advice: 'fix the request' },
  rate_limited: { retryable: true, unhealthy: false, advice: 'try again after the provider’s wait' },
  quota_exhausted: { retryable: false, unhealthy: false, advice: 'add credit or raise the quota with the provider' },
  server_error: { retryable: true, unhealthy: true, advice: 'try again later' },
  timeout: { retryable: true, unhealthy: true, advice: 'try again later' },
  connection: { retryable: true, unhealthy: true, advice: 'try again later' },
  content_filter: { retryable: false, unhealthy: false, advice: 'change the prompt' },
  malformed_response: { retryable: true, unhealthy: true, advice: 'try again later' },
});

/** Facts about a failed provider call. */
export interface ProviderErrorOptions {
  provider: string;
  model?: string;
  status?: number;
  requestId?: string;
  /** How long the provider asked us to wait before the next request, in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
  /** Overrides the kind's default. */
  retryable?: boolean;
  /** Replaces the kind's advice at the end of the message. */
  advice?: string;
  /** Replaces the code, `provider_<kind>` by default. */
  code?: string;
}

/** A call to an LLM provider failed. One subclass per {@link ProviderErrorKind}. */
export class ProviderError extends GroundworkError {
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly model: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(kind: ProviderErrorKind, detail: string, options: ProviderErrorOptions) {
    const facts = PROVIDER_ERROR_KINDS[kind];
    const retryable = options.retryable ?? facts.retryable;
    const where = options.model === undefined ? options.provider : `${options.provider}/${options.model}`;
    const status = options.status === undefined ? '' : ` (HTTP ${options.status})`;
    const wait = options.retryAfterMs === undefined ? '' : `; provider asked to wait ${Math.ceil(options.retryAfterMs)} ms`;
    const request = options.requestId === undefined ? '' : `; request id ${options.requestId}`;
    const advice = options.advice ?? facts.advice;
    super(
      options.code ?? `provider_${kind}`,
      `${where} ${kind.replaceAll('_', ' ')}${status}: ${detail} — ${retryable ? 'retryable' : 'not retryable'}, ${advice}${wait}${request}`,
      {
        cause: options.cause,
        retryable,
      },
    );
    this.kind = kind;
    this.provider = options.provider;
    this.model = options.model;
    this.status = options.status;
    this.requestId = options.requestId;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether this failure says the provider is unhealthy (5xx, timeouts, connection errors). */
  get countsAgainstProviderHealth(): boolean {
    return PROVIDER_ERROR_KINDS[this.kind].unhealthy;
  }

  static override isInstance(value: unknown): value is ProviderError {
    return GroundworkError.isInstance(value) && typeof (value as ProviderError).kind === 'string' && 'provider' in value;
  }
}

type SubclassOptions = ProviderErrorOptions;
/* One subclass per kind, so callers can `catch` by class. */
export class BadRequestError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('bad_request', detail, options);
  }
}
export class AuthenticationError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('authentication', detail, options);
  }
}
export class PermissionDeniedError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('permission_denied', detail, options);
  }
}
export class NotFoundError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('not_found', detail, options);
  }
}
export class RequestTimeoutError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('request_timeout', detail, options);
  }
}
export class ConflictError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('conflict', detail, options);
  }
}
export class UnprocessableEntityError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('unprocessable', detail, options);
  }
}
export class RateLimitedError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('rate_limited', detail, options);
  }
}
export class QuotaExhaustedError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('quota_exhausted', detail, options);
  }
}
export class ProviderServerError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('server_error', detail, options);
  }
}
export class ProviderTimeoutError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('timeout', detail, options);
  }
}
export class ProviderConnectionError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('connection', detail, options);
  }
}
export class ContentFilterError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('content_filter', detail, options);
  }
}
export class MalformedResponseError extends ProviderError {
  constructor(detail: string, options: SubclassOptions) {
    super('malformed_response', detail, options);
  }
}

const CLASSES: Readonly<Record<ProviderErrorKind, new (detail: string, options: ProviderErrorOptions) => ProviderError>> = {
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

/** The subclass for `kind`: the one place a kind becomes a class. */
export function createProviderError(kind: ProviderErrorKind, detail: string, options: ProviderErrorOptions): ProviderError {
  return new CLASSES[kind](detail, options);
}
