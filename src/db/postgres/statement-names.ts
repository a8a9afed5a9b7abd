import { errorCode } from '../driver-errors.js';

/**
 * The server names of prepared queries' statements in one pool. A named statement is parsed and
 * planned once per connection; when a schema change alters its result's columns, PostgreSQL
 * refuses to run it again ("cached plan must not change result type"). The statement then gets a
 * new name, under which every connection parses it afresh.
 */
export class StatementNames {
  readonly #renamed = new Map<string, string>();
  #renames = 0;

  /** The name to send for a prepared query's statement. */
  current(name: string): string {
    return this.#renamed.get(name) ?? name;
  }

  /** Gives the statement a new name, after its plan went stale. */
  renew(name: string): void {
    this.#renamed.set(name, `${name}_${++this.#renames}`);
  }
}

/** Whether a statement failed because its cached plan no longer matches the schema. */
export function isStalePlan(error: unknown): boolean {
  return errorCode(error) === '0A000' && error instanceof Error && /cached plan must not change result type/.test(error.message);
}
