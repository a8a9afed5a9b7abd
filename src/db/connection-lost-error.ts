import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * The connection to the database broke while it was in use (the server restarted, the backend
 * was terminated, the network dropped). The transaction it carried is gone: nothing of it was
 * committed. Running the whole unit of work again on a new connection may succeed.
 */
export class ConnectionLostError extends GroundworkError {
  /** The driver's error code, when it gave one (e.g. `57P01`, `ECONNRESET`). */
  readonly driverCode: string | undefined;

  constructor(message: string, options: { cause?: unknown; driverCode?: string | undefined } = {}) {
    super('db_connection_lost', message, { cause: options.cause, retryable: true });
    this.driverCode = options.driverCode;
  }
}
