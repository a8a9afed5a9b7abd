import { CompiledQuery, type TransactionSettings } from 'kysely';

/** The PostgreSQL statement that begins a transaction with the given settings. */
export function beginStatement(settings: TransactionSettings): string {
  if (settings.isolationLevel === undefined && settings.accessMode === undefined) return 'begin';
  let statement = 'start transaction';
  if (settings.isolationLevel !== undefined) statement += ` isolation level ${settings.isolationLevel}`;
  if (settings.accessMode !== undefined) statement += ` ${settings.accessMode}`;
  return statement;
}

const compiledBegins = new Map<string, CompiledQuery>();

/** {@link beginStatement}, compiled once per distinct statement (a handful at most). */
export function compiledBegin(settings: TransactionSettings): CompiledQuery {
  const statement = beginStatement(settings);
  let compiled = compiledBegins.get(statement);
  if (compiled === undefined) {
    compiled = CompiledQuery.raw(statement);
    compiledBegins.set(statement, compiled);
  }
  return compiled;
}

/** `commit`, compiled once. */
export const COMMIT: CompiledQuery = CompiledQuery.raw('commit');

/** `rollback`, compiled once. */
export const ROLLBACK: CompiledQuery = CompiledQuery.raw('rollback');
