import { createHash } from 'node:crypto';
import type {
  Compilable,
  CompiledQuery,
  DeleteResult,
  DialectAdapter,
  InsertResult,
  Kysely,
  KyselyPlugin,
  MergeResult,
  OperationNode,
  QueryResult,
  UpdateResult,
} from 'kysely';
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

/**
 * A row of a prepared query's result: `never` for a write without `returning` (Kysely's
 * `InsertResult`, `UpdateResult`, `DeleteResult` or `MergeResult`), whose result has no rows; read
 * its `numAffectedRows` instead.
 */
export type PreparedRow<R> = [R] extends [InsertResult | UpdateResult | DeleteResult | MergeResult] ? never : R;

/**
 * The PostgreSQL statement name of a prepared query's compiled statement, or undefined for any
 * other statement. It is derived from the SQL, so prepared queries with the same SQL share one
 * statement per connection.
 */
export function statementName(compiled: CompiledQuery): string | undefined {
  return (compiled as NamedCompiledQuery)[STATEMENT_NAME];
}

/**
 * The PostgreSQL statement name of the SQL text `sql`: a hash of it, so that statements with the
 * same SQL share one server statement per connection, whether a prepared query or the query
 * builder sent them.
 */
export function statementNameOf(sql: string): string {
  return `groundwork_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
}

/** Stands for one parameter while the query is built and compiled; replaced by its value at each call. */
class Placeholder {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  /** A parameter turned into a string or a number steers the build (a template string, a comparison, arithmetic). */
  [Symbol.toPrimitive](): never {
    throw new PreparedQueryError(
      `Prepared query: the parameter "${this.name}" was turned into a string or a number while the query was built (a template string, ` +
        `a comparison, arithmetic); it has no value then. Pass params.${this.name} to the builder as a value (in where, values, set, limit…).`,
    );
  }
}

const IN_OPERATORS = new Set(['in', 'not in']);

/** The name of a parameter that is the whole right-hand side of `in` or `not in` somewhere in `node`, if any. */
function parameterAfterIn(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = parameterAfterIn(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (node instanceof Placeholder) return undefined;
  const operation = node as OperationNode & {
    readonly operator?: { readonly operator?: string };
    readonly rightOperand?: { readonly kind?: string; readonly value?: unknown };
  };
  if (
    operation.kind === 'BinaryOperationNode' &&
    operation.operator?.operator !== undefined &&
    IN_OPERATORS.has(operation.operator.operator) &&
    operation.rightOperand?.kind === 'ValueNode' &&
    operation.rightOperand.value instanceof Placeholder
  ) {
    return operation.rightOperand.value.name;
  }
  for (const key in node) {
    const found = parameterAfterIn((node as Record<string, unknown>)[key]);
    if (found !== undefined) return found;
  }
  return undefined;
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
 * PostgreSQL the statement is a named one, parsed once per connection (the server may then switch
 * it to a generic plan after five runs, as `plan_cache_mode` decides). Prepare once, at module
 * scope: preparing again builds and compiles again (the same SQL still shares one statement).
 *
 * Made by `prepare()` of a {@link Database} (or the infrastructure): the builder gets the query
 * builder and a parameters object whose properties stand for the values of each call.
 *
 * @typeParam DB - the database's tables.
 * @typeParam P - the parameters a call takes, by name.
 * @typeParam R - what the builder compiles to: a row of the result, or Kysely's `InsertResult`
 * (`UpdateResult`, …) for a write without `returning`, whose result has no rows ({@link PreparedRow}).
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
  readonly #name: string;

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
    const afterIn = parameterAfterIn(compiled.query);
    if (afterIn !== undefined) {
      throw new PreparedQueryError(
        `Prepared query: the parameter "${afterIn}" is the right-hand side of "in", where a list goes; a parameter stands for one value. ` +
          `On PostgreSQL compare with "= any" and pass an array as the value (where('id', '=', sql\`any(\${params.${afterIn}})\`)), ` +
          'or build the query with its list at each call.',
      );
    }
    const slots: Slot[] = [];
    compiled.parameters.forEach((value, index) => {
      if (value instanceof Placeholder) slots.push({ index, name: value.name });
    });
    const bound = new Set(slots.map((slot) => slot.name));
    for (const name of placeholders.keys()) {
      if (!bound.has(name)) {
        throw new PreparedQueryError(
          `Prepared query: the parameter "${name}" is not a value of the statement. Pass params.${name} to the builder as a value ` +
            '(in where, values, set, limit…); it cannot steer the build in JavaScript (a condition, a column name). ' +
            'A condition on a parameter that is also a value cannot be seen here: it always takes the same branch.',
        );
      }
    }
    this.sql = compiled.sql;
    this.#name = statementNameOf(compiled.sql);
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
  execute(params: P, on?: Kysely<DB>): Promise<QueryResult<PreparedRow<R>>> {
    let compiled: CompiledQuery<R>;
    try {
      if (on !== undefined) this.#checkTarget(on);
      compiled = this.#bind(params);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#execute(compiled, on as Kysely<never> | undefined) as Promise<QueryResult<PreparedRow<R>>>;
  }

  /** {@link PreparedQuery.execute}, answering the first row, or undefined when there is none (always, for a write without `returning`). */
  async takeFirst(params: P, on?: Kysely<DB>): Promise<PreparedRow<R> | undefined> {
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
