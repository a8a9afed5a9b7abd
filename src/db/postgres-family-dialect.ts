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

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
