import { errorCode } from './driver-errors.js';

/** SQLite's result codes for a value a statement could not store. */
const SQLITE_ROW_CODES = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/;

/**
 * Whether a database error says the server refused the values of the rows written (and so may
 * accept the same statement without some of them), rather than that the statement could not run.
 *
 * On PostgreSQL and PGlite: SQLSTATE class 22 (data exception: a value out of range, a `NUL` byte
 * in text, invalid input), class 23 (integrity constraint: `NOT NULL`, `CHECK`, unique) and 54000
 * (a value past a limit, such as an index row too large). On SQLite: a constraint, a type mismatch,
 * a value too big. Everything else (a connection refused or lost, a pool timeout, a statement
 * timeout, a read-only server, a missing table) is not about the rows.
 */
export function isRowRefusal(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return false;
  if (code.startsWith('SQLITE_')) return SQLITE_ROW_CODES.test(code);
  return code.length === 5 && (code.startsWith('22') || code.startsWith('23') || code === '54000');
}
