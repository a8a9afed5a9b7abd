import { type CompiledQuery, PostgresQueryCompiler, type QueryId, type RootOperationNode } from 'kysely';
import { queryShape } from './query-shape.js';

/**
 * Distinct shapes a compiler keeps the SQL of. Past it the least recently used goes, recency counted
 * from when the compiler first held this many: a hit moves its shape to the back only then (a Map
 * delete and set, 90 to 150 ns a hit as measured, not worth paying while nothing is evicted). Among
 * shapes not used since, the least recently added goes first.
 */
export const SHAPES_KEPT = 1000;

/**
 * Kysely's PostgreSQL compiler with the SQL of plain selects kept by their shape (see
 * {@link queryShape}): a select whose shape compiled before gets that SQL with its own
 * parameters, and no compiling. Any other query compiles as usual. A shape is kept only once the
 * compiler numbered its parameters in the order the shape took them in.
 */
export class ShapeCachedCompiler extends PostgresQueryCompiler {
  readonly #sql = new Map<string, string>();
  override compileQuery(node: RootOperationNode, queryId: QueryId): CompiledQuery {
    const parameters: unknown[] = [];
    const shape = queryShape(node, parameters);
    if (shape === undefined) return super.compileQuery(node, queryId);
    const sql = this.#sql.get(shape);
    if (sql !== undefined) {
      if (this.#sql.size >= SHAPES_KEPT) this.#used(shape, sql);
      return Object.freeze({ query: node, queryId, sql, parameters });
    }
    const compiled = super.compileQuery(node, queryId);
    if (sameParameters(compiled.parameters, parameters)) this.#keep(shape, compiled.sql);
    return compiled;
  }

  /** Shapes kept now. */
  get shapes(): number {
    return this.#sql.size;
  }

  /** Moves `shape` to the back of the eviction order. */
  #used(shape: string, sql: string): void {
    this.#sql.delete(shape);
    this.#sql.set(shape, sql);
  }

  #keep(shape: string, sql: string): void {
    if (this.#sql.size >= SHAPES_KEPT) {
      const oldest = this.#sql.keys().next();
      if (oldest.done !== true) this.#sql.delete(oldest.value);
    }
    this.#sql.set(shape, sql);
  }
}

function sameParameters(compiled: ReadonlyArray<unknown>, shaped: ReadonlyArray<unknown>): boolean {
  return compiled.length === shaped.length && compiled.every((value, index) => Object.is(value, shaped[index]));
}
