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
import type { DriverConfig } from '../driver-config.js';
import type { PgliteClient } from './pglite-client.js';
import { PgliteDriver } from './pglite-driver.js';

/** PGlite (embedded PostgreSQL) through Kysely's PostgreSQL compiler, adapter and introspector. */
export class PgliteDialect implements Dialect {
  readonly driver: PgliteDriver;

  constructor(client: PgliteClient, config: DriverConfig) {
    this.driver = new PgliteDriver(client, config);
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
