import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * The connection to the database broke while it was in use (the server restarted, the backend
 * was terminated, the network dropped). The transaction it carried is gone: nothing of it was
 * committed, and running the whole unit of work again on a new connection may succeed.
 *
 * Unless {@link outcomeUnknown} is set: a statement outside a transaction (or a COMMIT) may have
 * been applied before the connection broke, so it is not marked retryable.
 */
export class ConnectionLostError extends GroundworkError {
  /** The driver's error code, when it gave one (e.g. `57P01`, `ECONNRESET`). */
  readonly driverCode: string | undefined;
  /** Whether the statement may have been applied (it ran outside a transaction, or was a COMMIT). */
  readonly outcomeUnknown: boolean;

  constructor(message: string, options: { cause?: unknown; driverCode?: string | undefined; outcomeUnknown?: boolean } = {}) {
    const outcomeUnknown = options.outcomeUnknown === true;
    super('db_connection_lost', message, { cause: options.cause, retryable: !outcomeUnknown });
    this.driverCode = options.driverCode;
    this.outcomeUnknown = outcomeUnknown;
  }
}
