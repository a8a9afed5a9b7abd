import {
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type { DriverConfig } from '../driver-config.js';
import { GroundworkSqliteAdapter } from './sqlite-adapter.js';
import type { SqliteClient } from './sqlite-client.js';
import { SqliteDriver } from './sqlite-driver.js';

/** SQLite through better-sqlite3, with Groundwork's value mapping and serialised connection. */
export class SqliteDialect implements Dialect {
  readonly driver: SqliteDriver;

  constructor(client: SqliteClient, config: DriverConfig) {
    this.driver = new SqliteDriver(client, config);
  }

  createDriver(): Driver {
    return this.driver;
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new GroundworkSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
