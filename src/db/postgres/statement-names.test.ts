import { describe, expect, it } from 'vitest';
import { statementNameOf } from '../prepared-query.js';
import {
  ConnectionStatements,
  isClientSideFailure,
  isMissingStatement,
  isStalePlan,
  RecurringStatements,
  StatementNames,
} from './statement-names.js';

function serverError(fields: { code: string; routine?: string; message: string }): Error {
  return Object.assign(new Error(fields.message), fields);
}

describe('statement names', () => {
  it('recognises a stale plan by SQLSTATE and the raising function, whatever language the message is in', () => {
    expect(
      isStalePlan(
        serverError({
          code: '0A000',
          routine: 'RevalidateCachedQuery',
          message: 'le plan mis en cache ne doit pas modifier le type de résultat',
        }),
      ),
    ).toBe(true);
    // Another feature_not_supported error that happens to say the same words is not a stale plan.
    expect(
      isStalePlan(serverError({ code: '0A000', routine: 'transformSelectStmt', message: 'cached plan must not change result type' })),
    ).toBe(false);
    expect(isStalePlan(serverError({ code: '42P01', routine: 'RevalidateCachedQuery', message: 'x' }))).toBe(false);
    expect(isStalePlan(undefined)).toBe(false);
  });

  it('tells a missing statement, a failure inside the client and a lost connection apart', () => {
    expect(isMissingStatement(serverError({ code: '26000', message: 'prepared statement "x" does not exist' }))).toBe(true);
    expect(isClientSideFailure(new TypeError('Do not know how to serialize a BigInt'))).toBe(true);
    expect(isClientSideFailure(serverError({ code: '23505', message: 'duplicate key' }))).toBe(false);
    expect(isClientSideFailure(new Error('Connection terminated unexpectedly'))).toBe(false);
  });

  it('renames a statement for good, with a new name at each renewal', () => {
    const names = new StatementNames();
    expect(names.current('groundwork_a')).toBe('groundwork_a');
    names.renew('groundwork_a');
    const renamed = names.current('groundwork_a');
    expect(renamed).not.toBe('groundwork_a');
    names.renew('groundwork_a');
    expect(names.current('groundwork_a')).not.toBe(renamed);
    expect(names.current('groundwork_b')).toBe('groundwork_b');
  });

  it('evicts the least recently used statement past its limit', () => {
    const statements = new ConnectionStatements(2);
    expect(statements.use('a', 'select 1')).toBeUndefined();
    expect(statements.use('b', 'select 2')).toBeUndefined();
    expect(statements.use('a', 'select 1')).toBeUndefined();
    expect(statements.use('c', 'select 3')).toEqual({ name: 'b', sql: 'select 2' });
    expect(statements.size).toBe(2);
    statements.forget('a');
    expect(statements.use('d', 'select 4')).toBeUndefined();
    expect(statements.use('e', 'select 5')).toEqual({ name: 'c', sql: 'select 3' });
  });

  it('names a query-builder text from its second sighting, never one without parameters, and forgets the oldest past its limit', () => {
    const recurring = new RecurringStatements(2);
    expect(recurring.name('select $1', 1)).toBeUndefined();
    expect(recurring.name('select $1', 1)).toBe(statementNameOf('select $1'));
    expect(recurring.name('select $1', 1)).toBe(statementNameOf('select $1'));
    expect(recurring.name('select 1', 0)).toBeUndefined();
    expect(recurring.name('select 1', 0)).toBeUndefined();
    expect(recurring.name('select $1, $2', 2)).toBeUndefined();
    // A third text pushes out the oldest: seen again, it starts over.
    expect(recurring.name('select $1, $2, $3', 3)).toBeUndefined();
    expect(recurring.name('select $1', 1)).toBeUndefined();
    expect(recurring.name('select $1', 1)).toBe(statementNameOf('select $1'));
  });

  it('forgets the least recently seen text, not the first seen: a text in steady use keeps its name', () => {
    const recurring = new RecurringStatements(2);
    recurring.name('select $1', 1);
    expect(recurring.name('select $1', 1)).toBe(statementNameOf('select $1'));
    recurring.name('select $1, $2', 2);
    // Seen again: now the most recent, so the next new text pushes out the other one.
    expect(recurring.name('select $1', 1)).toBe(statementNameOf('select $1'));
    recurring.name('select $1, $2, $3', 3);
    expect(recurring.name('select $1', 1)).toBe(statementNameOf('select $1'));
    expect(recurring.name('select $1, $2', 2)).toBeUndefined();
  });
});
