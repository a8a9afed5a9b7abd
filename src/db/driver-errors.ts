import { GroundworkError } from '../errors/groundwork-error.js';
import { scrubSecrets } from '../observability/redact.js';
import { ConnectionLostError } from './connection-lost-error.js';

/** Server codes (SQLSTATE) and socket codes that mean the connection itself is gone. */
const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

const CONNECTION_MESSAGES = /connection terminated|not queryable|client was closed|connection is closed|socket hang up|read ECONNRESET/i;

/** The error's `code` field as a string, when it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether a driver error says the connection broke (as opposed to the statement failing). */
export function isConnectionLost(error: unknown): boolean {
  if (GroundworkError.isInstance(error)) return error.code === 'db_connection_lost';
  const code = errorCode(error);
  if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

/** What pg answers for a statement it refused to write, the connection being known broken or closed. */
const UNSENT_MESSAGE = /is not queryable/i;

/** Whether pg refused to send the statement at all: it never reached the server. */
export function isUnsent(error: unknown): boolean {
  return error instanceof Error && UNSENT_MESSAGE.test(error.message);
}

/** Codes that say no connection could be opened at all, as opposed to one that broke in use. */
const REFUSED_CODES = new Set(['ECONNREFUSED', '57P03', 'ENOTFOUND', 'EHOSTUNREACH']);

/** Whether a driver error says the server could not be reached or would not take a connection. */
export function isConnectionRefused(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && REFUSED_CODES.has(code);
}

/**
 * Makes a driver error safe to surface: its message is scrubbed of secrets in place, and a
 * broken connection becomes a {@link ConnectionLostError}. Statement errors (constraint
 * violations, syntax) keep their class and `code` so callers can react to them.
 *
 * `outcomeUnknown`: the lost statement ran outside a transaction (or was a COMMIT) and may have
 * reached the server, which then applied it; the error says so instead of "rolled back".
 */
export function toDatabaseError(error: unknown, displayUrl: string, outcomeUnknown = false): Error {
  if (error instanceof Error && !(error instanceof ConnectionLostError)) {
    error.message = scrubSecrets(error.message);
    if (isConnectionRefused(error)) {
      return new ConnectionLostError(
        `Could not connect to ${displayUrl} (${error.message}): the server is not accepting connections. Nothing was sent; check that it is running and reachable, then run the unit of work again.`,
        { cause: error, driverCode: errorCode(error) },
      );
    }
    if (isConnectionLost(error) && outcomeUnknown) {
      return new ConnectionLostError(
        `The connection to ${displayUrl} was lost (${error.message}) while a statement outside a transaction, or a COMMIT, was in flight: the server may or may not have applied it. Check its effect before running it again.`,
        { cause: error, driverCode: errorCode(error), outcomeUnknown: true },
      );
    }
    if (isConnectionLost(error)) {
      return new ConnectionLostError(
        `The connection to ${displayUrl} was lost (${error.message}); the transaction it carried was rolled back by the server. Run the unit of work again.`,
        { cause: error, driverCode: errorCode(error) },
      );
    }
    return error;
  }
  return error instanceof Error ? error : new Error(scrubSecrets(String(error)));
}
