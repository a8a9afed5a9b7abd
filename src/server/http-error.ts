/** OpenAI's error `type` values, as its SDKs and callers expect them. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'
  | 'service_unavailable'
  | 'timeout_error';

/** What an error answer says: the HTTP status and OpenAI's error JSON fields. */
export interface ErrorAnswer {
  status: number;
  type: OpenAiErrorType;
  /** Stable, machine-readable; for Groundwork's own refusals the error's `code` (e.g. `circuit_open`). */
  code: string | null;
  /** What happened and what to do. Never a secret, never prompt text. */
  message: string;
  /** The request field at fault, e.g. `messages[0].role`. */
  param: string | null;
  /** Sent as `Retry-After`, in seconds rounded up. */
  retryAfterMs?: number;
}

/** An error a route handler throws to answer with a given status (validation, auth, routing). */
export class HttpError extends Error {
  readonly answer: ErrorAnswer;

  constructor(answer: Omit<ErrorAnswer, 'param' | 'code'> & { param?: string | null; code?: string | null }) {
    super(answer.message);
    this.name = 'HttpError';
    this.answer = { ...answer, param: answer.param ?? null, code: answer.code ?? null };
  }
}

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function errorBody(answer: ErrorAnswer): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: answer.message, type: answer.type, param: answer.param, code: answer.code } };
}

/** `Retry-After` in whole seconds, rounded up. */
export function retryAfterSeconds(retryAfterMs: number): string {
  return String(Math.max(0, Math.ceil(retryAfterMs / 1000)));
}

/**
 * The 405 for a method `path` does not accept: sets `Allow` to the methods it does, and answers
 * the error that names them. `HEAD` is named after `GET` when `methods` leave it out: the `GET`
 * handler answers it (see `methodHandler`).
 */
export function methodNotAllowed(
  response: { setHeader(name: string, value: string): unknown },
  path: string,
  methods: readonly string[],
): HttpError {
  const named = methods.flatMap((method) => (method === 'GET' && !methods.includes('HEAD') ? ['GET', 'HEAD'] : [method]));
  const allowed = named.join(', ');
  response.setHeader('allow', allowed);
  return new HttpError({
    status: 405,
    type: 'invalid_request_error',
    code: 'method_not_allowed',
    message: `${path} accepts ${allowed} only.`,
  });
}
