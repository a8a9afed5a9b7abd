import { errorCode, isConnectionLost } from '../driver-errors.js';
import { statementNameOf } from '../prepared-query.js';

/**
 * The server names of prepared queries' statements in one pool. A prepared query's key is a hash
 * of its SQL, so queries with the same SQL share one statement per connection. A named statement
 * is parsed once per connection; when a schema change alters its result's columns, PostgreSQL
 * refuses to run it again ("cached plan must not change result type"). The statement then gets a
 * new name, under which every connection parses it afresh.
 */
export class StatementNames {
  readonly #renamed = new Map<string, string>();
  #renames = 0;

  /** The name to send for the statement whose key is `key`. */
  current(key: string): string {
    return this.#renamed.get(key) ?? key;
  }

  /** Gives the statement a new name, after its plan went stale. */
  renew(key: string): void {
    this.#renamed.set(key, `${key}_${++this.#renames}`);
  }
}

/** How many SQL texts of the query builder {@link RecurringStatements} remembers. */
export const REMEMBERED_TEXTS = 1000;

/**
 * The statement names of query-builder statements (Kysely's compiled queries) that recur. A text
 * seen for the first time goes out unnamed, as pg sends it by default; from its second time on it
 * is a named statement, which every connection parses once, like a prepared query's. So a query
 * built anew at each call (with values as parameters) costs the server a parse per connection
 * rather than one per call, and one-off texts (an `in` list of a new length, literals spliced
 * into raw SQL) take no place among a connection's named statements. Only statements with
 * parameters are named: pg sends the others over the simple query protocol, where one text may
 * hold several statements.
 */
export class RecurringStatements {
  /** SQL text → its statement name once seen twice (undefined after one sighting), least recently seen first. */
  readonly #texts = new Map<string, string | undefined>();
  readonly #limit: number;

  constructor(limit = REMEMBERED_TEXTS) {
    this.#limit = limit;
  }

  /** The statement name to send `sql` under, or undefined to send it unnamed. */
  name(sql: string, parameterCount: number): string | undefined {
    if (parameterCount === 0) return undefined;
    const texts = this.#texts;
    const known = texts.get(sql);
    if (known !== undefined) {
      // Moved to the end: a text in steady use is never the one forgotten.
      texts.delete(sql);
      texts.set(sql, known);
      return known;
    }
    if (texts.has(sql)) {
      const name = statementNameOf(sql);
      texts.delete(sql);
      texts.set(sql, name);
      return name;
    }
    if (texts.size >= this.#limit) {
      const oldest = texts.keys().next().value;
      if (oldest !== undefined) texts.delete(oldest);
    }
    texts.set(sql, undefined);
    return undefined;
  }
}

/** How many prepared queries' named statements one connection keeps before it deallocates the least recently used. */
export const STATEMENTS_PER_CONNECTION = 100;

/** How many of the query builder's named statements one connection keeps, apart from prepared queries'. */
export const BUILDER_STATEMENTS_PER_CONNECTION = 50;

/**
 * The named statements one connection has been sent, least recently used first. When a new one
 * would pass the limit, the least recently used one is deallocated on the server, so a process
 * that prepares many distinct queries (or renames them) does not fill its connections' memory.
 */
export class ConnectionStatements {
  /** Name → SQL, in order of last use. */
  readonly #used = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = STATEMENTS_PER_CONNECTION) {
    this.#limit = limit;
  }

  /** The number of named statements tracked on the connection. */
  get size(): number {
    return this.#used.size;
  }

  /** Whether `name` is tracked on the connection. */
  has(name: string): boolean {
    return this.#used.has(name);
  }

  /**
   * Records a use of `name`; answers the name and SQL of the statement to deallocate when this
   * one passes the limit, or undefined.
   */
  use(name: string, sql: string): { name: string; sql: string } | undefined {
    const used = this.#used;
    if (used.has(name)) {
      used.delete(name);
      used.set(name, sql);
      return undefined;
    }
    used.set(name, sql);
    if (used.size <= this.#limit) return undefined;
    const [oldest, oldestSql] = used.entries().next().value as [string, string];
    used.delete(oldest);
    return { name: oldest, sql: oldestSql };
  }

  /** Tracks `name` again, as the most recently used, without evicting another. */
  restore(name: string, sql: string): void {
    this.#used.set(name, sql);
  }

  /** Forgets `name`, which the connection no longer holds. */
  forget(name: string): void {
    this.#used.delete(name);
  }
}

/**
 * Whether a statement failed because its cached plan no longer matches the schema. Matched on
 * the SQLSTATE and the server function that raised it, which (unlike the message) are not
 * translated under another `lc_messages`.
 */
export function isStalePlan(error: unknown): boolean {
  return errorCode(error) === '0A000' && (error as { routine?: unknown }).routine === 'RevalidateCachedQuery';
}

/** Whether a named statement failed because the server does not hold it (26000, invalid_sql_statement_name). */
export function isMissingStatement(error: unknown): boolean {
  return errorCode(error) === '26000';
}

/**
 * Whether a statement failed in `pg` itself before reaching the server, as when a value cannot be
 * serialised: such an error has no SQLSTATE. For a named statement, `pg` then closes the statement
 * on the server but still counts it as parsed.
 */
export function isClientSideFailure(error: unknown): boolean {
  return errorCode(error) === undefined && !isConnectionLost(error);
}
