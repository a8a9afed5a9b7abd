import { GroundworkError, type GroundworkErrorOptions } from '../errors/groundwork-error.js';

/**
 * A session's function returned normally, but a statement inside its transaction had failed (and
 * the failure was caught) without a nested session or savepoint undoing it: PostgreSQL had
 * aborted the transaction, so COMMIT rolled it back. Nothing of the transaction was kept.
 *
 * Also thrown on PostgreSQL when the connection broke under a statement of the transaction whose
 * failure was caught: the server rolled back what the transaction had done on that connection, so
 * ROLLBACK goes out instead of COMMIT (which, on a new connection, would commit a statement sent
 * again there without the lost ones). That one is `retryable`: running the unit of work again may succeed.
 *
 * On SQLite, thrown by the statements and the commit that follow a failure after which SQLite rolled
 * the whole transaction back itself (`RAISE(ROLLBACK)`, `INSERT OR ROLLBACK`, some disk-full, I/O,
 * busy and out-of-memory errors): run alone, in autocommit, they would be kept although the session fails.
 */
export class TransactionAbortedError extends GroundworkError {
  constructor(
    message = 'The transaction was rolled back, not committed: a statement in it failed, so the database aborted it. Nothing it wrote was kept. Let the error propagate, or run the failing statement in a nested session so that only it is undone.',
    options: GroundworkErrorOptions = {},
  ) {
    super('db_transaction_aborted', message, options);
  }
}
