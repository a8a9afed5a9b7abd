import { headerOf, retryAfterOf, type UpstreamHeaders } from './upstream-headers.js';

/** The longest error text kept from a body that is not OpenAI's JSON error shape. */
const MAX_DETAIL = 500;

/**
 * An upstream answered with an error status. It carries what OpenAI-family servers say about the
 * failure: the body's `error.message`, `code`, `type` and `param`, the `x-request-id`, and the wait
 * asked for by `retry-after-ms` or `Retry-After`. Provider adapters turn it into a typed
 * `ProviderError` and keep it as the cause.
 */
export class UpstreamStatusError extends Error {
  override readonly name = 'UpstreamStatusError';
  readonly status: number;
  readonly code: string | undefined;
  readonly type: string | undefined;
  readonly param: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  /** The body's `error` object as sent (scrubbed of secrets when wrapped in a provider error). */
  readonly error: unknown;

  constructor(status: number, headers: UpstreamHeaders, bodyText: string) {
    const { detail, error } = readErrorBody(status, bodyText);
    super(detail);
    this.status = status;
    this.error = error;
    const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
    this.code = stringOrUndefined(fields['code']);
    this.type = stringOrUndefined(fields['type']);
    this.param = stringOrUndefined(fields['param']);
    this.requestId = headerOf(headers, 'x-request-id');
    this.retryAfterMs = retryAfterOf(headers);
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** OpenAI's `{ error: { message, … } }`, a bare `{ message }` or `{ error: "…" }`, or any text at all. */
function readErrorBody(status: number, text: string): { detail: string; error: unknown } {
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    return { detail: text.trim().slice(0, MAX_DETAIL) || `status ${status} without a body`, error: undefined };
  }
  if (typeof parsed !== 'object' || parsed === null)
    return { detail: text.slice(0, MAX_DETAIL) || `status ${status} without a body`, error: undefined };
  const body = parsed as Record<string, unknown>;
  const error = body['error'];
  if (typeof error === 'string') return { detail: error, error: { message: error } };
  if (typeof error === 'object' && error !== null) {
    const message = (error as Record<string, unknown>)['message'];
    const detail = typeof message === 'string' ? message : JSON.stringify(message ?? error);
    return { detail: detail.slice(0, MAX_DETAIL * 4), error };
  }
  if (typeof body['message'] === 'string') return { detail: body['message'], error: body };
  return { detail: text.slice(0, MAX_DETAIL), error: body };
}

/** A stream that had begun reported an error in an event (`{"error": {…}}` or `event: error`). */
export class UpstreamStreamError extends Error {
  override readonly name = 'UpstreamStreamError';
  readonly code: string | undefined;
  /** The event's `error` object as sent. */
  readonly error: unknown;

  constructor(error: unknown) {
    const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
    const message = fields['message'];
    super(typeof message === 'string' ? message : typeof error === 'string' ? error : JSON.stringify(error));
    this.error = error;
    this.code = stringOrUndefined(fields['code']) ?? stringOrUndefined(fields['type']);
  }
}
