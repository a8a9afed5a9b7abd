import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * A session's function returned normally, but a statement inside its transaction had failed (and
 * the failure was caught) without a nested session or savepoint undoing it: PostgreSQL had
 * aborted the transaction, so COMMIT rolled it back. Nothing of the transaction was kept.
 */
export class TransactionAbortedError extends GroundworkError {
  constructor(
    message = 'The transaction was rolled back, not committed: a statement in it failed, so the database aborted it. Nothing it wrote was kept. Let the error propagate, or run the failing statement in a nested session so that only it is undone.',
  ) {
    super('db_transaction_aborted', message);
  }
}
