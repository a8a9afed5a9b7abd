import type { RawBuilder, Sql } from 'kysely';
import { requirePackage } from '../internal/require-package.js';

/** Kysely's own `sql`, loaded on the first use of {@link sql}. */
function kyselySql(): Sql {
  return requirePackage<typeof import('kysely')>('kysely', 'sql').sql;
}

/**
 * Kysely's `sql` template tag and its helpers (`sql.ref`, `sql.raw`, `sql.join`…), for migrations
 * and raw SQL. Each call is Kysely's own, and returns Kysely's own `RawBuilder`; Kysely loads on
 * the first call rather than with `import('groundwork')` (a database that opens loads it anyway).
 */
export const sql: Sql = Object.assign(
  <T = unknown>(sqlFragments: TemplateStringsArray, ...parameters: unknown[]): RawBuilder<T> => kyselySql()<T>(sqlFragments, ...parameters),
  {
    val: <V>(value: V): RawBuilder<V> => kyselySql().val(value),
    value: <V>(value: V): RawBuilder<V> => kyselySql().value(value),
    ref: <R = unknown>(columnReference: string): RawBuilder<R> => kyselySql().ref<R>(columnReference),
    table: <T = unknown>(tableReference: string): RawBuilder<T> => kyselySql().table<T>(tableReference),
    id: <T = unknown>(...ids: readonly string[]): RawBuilder<T> => kyselySql().id<T>(...ids),
    lit: <V>(value: V): RawBuilder<V> => kyselySql().lit(value),
    literal: <V>(value: V): RawBuilder<V> => kyselySql().literal(value),
    raw: <R = unknown>(anySql: string): RawBuilder<R> => kyselySql().raw<R>(anySql),
    // Kysely's default separator is its own `sql\`, \``: left to it when none is given.
    join: <T = unknown>(array: readonly unknown[], separator?: RawBuilder<unknown>): RawBuilder<T> =>
      separator === undefined ? kyselySql().join<T>(array) : kyselySql().join<T>(array, separator),
  },
);
