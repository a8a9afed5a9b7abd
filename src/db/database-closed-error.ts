import { GroundworkError } from '../errors/groundwork-error.js';

/** The database was closed (`close()`), so no new session or query can start. */
export class DatabaseClosedError extends GroundworkError {
  constructor(message = 'The database is closed; no new session can start. Create a new instance to reconnect.') {
    super('db_closed', message);
  }
}
