import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * A prepared query was built or called wrongly: a parameter used other than as a value, a
 * parameter missing or unknown at a call, or the query run on a database of another dialect.
 * Nothing was sent to the database.
 */
export class PreparedQueryError extends GroundworkError {
  constructor(message: string) {
    super('db_prepared_query', message);
  }
}
