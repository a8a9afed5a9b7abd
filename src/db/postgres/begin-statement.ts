import type { TransactionSettings } from 'kysely';

/** The PostgreSQL statement that begins a transaction with the given settings. */
export function beginStatement(settings: TransactionSettings): string {
  if (settings.isolationLevel === undefined && settings.accessMode === undefined) return 'begin';
  let statement = 'start transaction';
  if (settings.isolationLevel !== undefined) statement += ` isolation level ${settings.isolationLevel}`;
  if (settings.accessMode !== undefined) statement += ` ${settings.accessMode}`;
  return statement;
}
