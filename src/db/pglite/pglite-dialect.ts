import type { DriverConfig } from '../driver-config.js';
import { PostgresFamilyDialect } from '../postgres-family-dialect.js';
import type { PgliteClient } from './pglite-client.js';
import { PgliteDriver } from './pglite-driver.js';

/** PGlite (embedded PostgreSQL) through Kysely's PostgreSQL compiler, adapter and introspector. */
export class PgliteDialect extends PostgresFamilyDialect<PgliteDriver> {
  constructor(client: PgliteClient, config: DriverConfig) {
    super(new PgliteDriver(client, config));
  }
}
