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
import type { PgPool } from './pg-client.js';
import { PostgresDriver, type PostgresDriverConfig } from './postgres-driver.js';

/** PostgreSQL through a `pg` pool, with Groundwork's recovery and pool-timeout behaviour. */
export class PostgresDialect implements Dialect {
  readonly driver: PostgresDriver;

  constructor(pool: PgPool, config: PostgresDriverConfig) {
    this.driver = new PostgresDriver(pool, config);
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
