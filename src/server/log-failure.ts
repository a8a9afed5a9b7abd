import type { Logger } from '../observability/logger.js';
import type { ErrorAnswer } from './http-error.js';

/**
 * Logs a failed request beyond its access-log line: unexpected errors with their stack (the logger
 * redacts secrets), upstream and availability failures with their code. Caller mistakes (4xx) are
 * left to the access log.
 */
export function logFailure(logger: Logger, error: unknown, answer: ErrorAnswer, requestId: string): void {
  if (answer.code === 'internal_error') logger.error({ err: error, requestId }, 'request failed unexpectedly');
  else if (answer.status >= 500 || answer.status === 429)
    logger.warn({ requestId, status: answer.status, code: answer.code }, answer.message);
}
