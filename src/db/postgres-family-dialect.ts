import {
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  type QueryCompiler,
} from 'kysely';
import { ShapeCachedCompiler } from './shape-cached-compiler.js';

/**
 * A dialect that speaks PostgreSQL through Kysely's compiler, adapter and introspector, over the
 * driver it is given: the shared shape of the PostgreSQL (`pg`) and PGlite dialects.
 */
export class PostgresFamilyDialect<D extends Driver> implements Dialect {
  readonly driver: D;

  constructor(driver: D) {
    this.driver = driver;
  }

  createDriver(): Driver {
    return this.driver;
  }

  /** Kysely's PostgreSQL compiler, with the SQL of plain selects kept by their shape. */
  createQueryCompiler(): QueryCompiler {
    return new ShapeCachedCompiler();
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
