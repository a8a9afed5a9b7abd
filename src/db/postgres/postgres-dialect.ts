import { PostgresFamilyDialect } from '../postgres-family-dialect.js';
import type { PgPool } from './pg-client.js';
import { PostgresDriver, type PostgresDriverConfig } from './postgres-driver.js';

/** PostgreSQL through a `pg` pool, with Groundwork's recovery and pool-timeout behaviour. */
export class PostgresDialect extends PostgresFamilyDialect<PostgresDriver> {
  constructor(pool: PgPool, config: PostgresDriverConfig) {
    super(new PostgresDriver(pool, config));
  }
}
