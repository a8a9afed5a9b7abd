import type { Compilable, CompiledQuery, DialectAdapter, Kysely, KyselyPlugin, QueryResult } from 'kysely';
import { PreparedQueryError } from './prepared-query-error.js';

/**
 * Runs a compiled statement: on `on` when given, else on the current session of the database
 * that prepared it (the transaction inside `withSession`, the pool outside).
 */
export type PreparedExecutor = (compiled: CompiledQuery, on: Kysely<never> | undefined) => Promise<QueryResult<unknown>>;

/** Where a prepared query's compiled statement carries its statement name for the PostgreSQL driver. */
const STATEMENT_NAME = Symbol('groundwork.statementName');

/** A compiled statement that may carry a statement name. */
type NamedCompiledQuery = CompiledQuery & { readonly [STATEMENT_NAME]?: string };

let statements = 0;

/**
 * The PostgreSQL statement name of a prepared query's compiled statement, or undefined for any
 * other statement. Each prepared query has its own, unique in the process.
 */
export function statementName(compiled: CompiledQuery): string | undefined {
  return (compiled as NamedCompiledQuery)[STATEMENT_NAME];
}

/** Stands for one parameter while the query is built and compiled; replaced by its value at each call. */
class Placeholder {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }
}

/** Where a parameter's value goes in the statement's parameter list. */
interface Slot {
  readonly index: number;
  readonly name: string;
}

/**
 * A query built and compiled once, run many times with different values: each call skips
 * Kysely's building, freezing and compiling, and binds the values straight into the compiled
 * statement's parameter list. Values stay parameters: nothing is spliced into the SQL. On
 * PostgreSQL the statement is a named one, parsed and planned once per connection.
 *
 * Made by `prepare()` of a {@link Database} (or the infrastructure): the builder gets the query
 * builder and a parameters object whose properties stand for the values of each call.
 *
 * @typeParam DB - the database's tables.
 * @typeParam P - the parameters a call takes, by name.
 * @typeParam R - a row of the result.
 */
export class PreparedQuery<DB, P extends object, R> {
  /** The compiled SQL, the same at every call. */
  readonly sql: string;
  readonly #template: readonly unknown[];
  readonly #slots: readonly Slot[];
  readonly #names: ReadonlySet<string>;
  readonly #compiled: CompiledQuery<R>;
  readonly #adapter: DialectAdapter;
  readonly #plugins: readonly KyselyPlugin[];
  readonly #execute: PreparedExecutor;
  readonly #name = `groundwork_prepared_${++statements}`;

  /** @internal Use `prepare()` of the database or the infrastructure. */
  constructor(db: Kysely<DB>, build: (db: Kysely<DB>, params: P) => Compilable<R>, execute: PreparedExecutor) {
    const placeholders = new Map<string, Placeholder>();
    const params = new Proxy(
      {},
      {
        get(_target, key) {
          if (typeof key !== 'string') return undefined;
          let placeholder = placeholders.get(key);
          if (placeholder === undefined) {
            placeholder = new Placeholder(key);
            placeholders.set(key, placeholder);
          }
          return placeholder;
        },
        ownKeys() {
          throw new PreparedQueryError(
            'Prepared query: read each parameter by name (params.id); the parameters object cannot be listed or spread, ' +
              'so pass its properties one by one (values({ id: params.id, … })).',
          );
        },
      },
    ) as P;
    const compiled = build(db, params).compile();
    const slots: Slot[] = [];
    compiled.parameters.forEach((value, index) => {
      if (value instanceof Placeholder) slots.push({ index, name: value.name });
    });
    const bound = new Set(slots.map((slot) => slot.name));
    for (const name of placeholders.keys()) {
      if (!bound.has(name)) {
        throw new PreparedQueryError(
          `Prepared query: the parameter "${name}" is not a value of the statement. Pass params.${name} to the builder as a value ` +
            '(in where, values, set, limit…); it cannot steer the build in JavaScript (a condition, a template string, an array for "in").',
        );
      }
    }
    this.sql = compiled.sql;
    this.#template = compiled.parameters;
    this.#slots = slots;
    this.#names = bound;
    this.#compiled = compiled;
    const executor = db.getExecutor();
    this.#adapter = executor.adapter;
    this.#plugins = executor.plugins;
    this.#execute = execute;
  }

  /** The parameter names a call takes. */
  get parameterNames(): readonly string[] {
    return [...this.#names];
  }

  /**
   * Runs the query with `params`: on `on` when given (a transaction, `dbRead`, or `db`), else on
   * the current session, that is the transaction inside `withSession` and the pool outside.
   * Answers Kysely's `QueryResult`: `rows`, and `numAffectedRows` for a write.
   *
   * @throws {PreparedQueryError} a parameter is missing or unknown, or `on` is a query builder of
   * another dialect (or with other plugins) than the one the query was compiled for.
   */
  execute(params: P, on?: Kysely<DB>): Promise<QueryResult<R>> {
    let compiled: CompiledQuery<R>;
    try {
      if (on !== undefined) this.#checkTarget(on);
      compiled = this.#bind(params);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#execute(compiled, on as Kysely<never> | undefined) as Promise<QueryResult<R>>;
  }

  /** {@link PreparedQuery.execute}, answering the first row, or undefined when there is none. */
  async takeFirst(params: P, on?: Kysely<DB>): Promise<R | undefined> {
    return (await this.execute(params, on)).rows[0];
  }

  #bind(params: P): CompiledQuery<R> {
    if (typeof params !== 'object' || params === null) {
      throw new PreparedQueryError(`Prepared query: the parameters must be an object with ${this.#describeNames()}.`);
    }
    const values = params as Record<string, unknown>;
    for (const key in values) {
      if (!this.#names.has(key)) {
        throw new PreparedQueryError(`Prepared query: unknown parameter "${key}"; it takes ${this.#describeNames()}.`);
      }
    }
    const parameters = this.#template.slice();
    for (const slot of this.#slots) {
      const value = values[slot.name];
      if (value === undefined) {
        throw new PreparedQueryError(`Prepared query: the parameter "${slot.name}" is missing (use null for SQL NULL).`);
      }
      parameters[slot.index] = value;
    }
    const template = this.#compiled;
    const bound: NamedCompiledQuery = {
      sql: template.sql,
      parameters,
      query: template.query,
      queryId: template.queryId,
      [STATEMENT_NAME]: this.#name,
    };
    return bound;
  }

  #checkTarget(on: Kysely<DB>): void {
    const executor = on.getExecutor();
    if (executor.adapter.constructor !== this.#adapter.constructor) {
      throw new PreparedQueryError(
        'Prepared query: it was compiled for another SQL dialect than this query builder speaks; prepare it with the database it runs on.',
      );
    }
    const plugins = executor.plugins;
    if (plugins.length !== this.#plugins.length || plugins.some((plugin, index) => plugin !== this.#plugins[index])) {
      throw new PreparedQueryError(
        'Prepared query: this query builder has other plugins than the one it was compiled with, and they may change its SQL; prepare it on this builder.',
      );
    }
  }

  #describeNames(): string {
    return this.#names.size === 0 ? 'no parameters' : `the parameters ${[...this.#names].map((name) => `"${name}"`).join(', ')}`;
  }
}

/** Builds and compiles a {@link PreparedQuery} over `db`. */
export function prepareQuery<DB, P extends object, R>(
  db: Kysely<DB>,
  build: (db: Kysely<DB>, params: P) => Compilable<R>,
  execute: PreparedExecutor,
): PreparedQuery<DB, P, R> {
  return new PreparedQuery(db, build, execute);
}
