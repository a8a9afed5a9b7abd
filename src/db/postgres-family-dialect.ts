import {
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
} from 'kysely';
import { CHECK_FIELDS } from './query-shape.js';
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

  /**
   * Kysely's PostgreSQL compiler, with the SQL of plain selects kept by their shape when the Kysely
   * resolved at run time is the release the shapes were checked against. With any other (or one
   * whose version cannot be read), Kysely's own compiler: checking every node's fields costs more
   * than the compile a shape saves, so a cache that had to check would be slower than none.
   */
  createQueryCompiler(): QueryCompiler {
    return CHECK_FIELDS ? new PostgresQueryCompiler() : new ShapeCachedCompiler();
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
