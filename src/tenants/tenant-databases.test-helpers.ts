import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshPostgresDatabase } from '../../test/services.js';
import { createDatabase } from '../db/create-database.js';
import type { Database } from '../db/database.js';
import { databaseConfig } from '../db/database-contract.test-helpers.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { silentLogger } from '../observability/logger.js';

/** A migrated database for a tenants suite, and how to drop it. */
export interface TenantDatabase {
  database: Database<GroundworkTables>;
  /** Opens another connection pool on the same database (as another replica would), when the backend allows it. */
  reopen?: () => Promise<Database<GroundworkTables>>;
  close(): Promise<void>;
}

/** A backend the tenants suites run on. */
export interface TenantDatabaseTarget {
  name: string;
  open(): Promise<TenantDatabase>;
}

async function openMigrated(url: string): Promise<Database<GroundworkTables>> {
  const database = await createDatabase<GroundworkTables>(databaseConfig(url, { poolSize: 4 }), { logger: silentLogger() });
  await database.migrate('up');
  return database;
}

/** A fresh SQLite file. */
export const sqliteTarget: TenantDatabaseTarget = {
  name: 'SQLite',
  async open() {
    const directory = mkdtempSync(join(tmpdir(), 'groundwork-tenants-'));
    const url = `sqlite:${join(directory, 'tenants.db')}`;
    const database = await openMigrated(url);
    return {
      database,
      reopen: () => openMigrated(url),
      async close() {
        await database.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  },
};

/** An in-memory PGlite. */
export const pgliteTarget: TenantDatabaseTarget = {
  name: 'PGlite',
  async open() {
    const database = await openMigrated('pglite:memory');
    return { database, close: () => database.close() };
  },
};

/** A fresh database on the test PostgreSQL server, dropped on close. */
export const postgresTarget: TenantDatabaseTarget = {
  name: 'PostgreSQL',
  async open() {
    const fresh = await freshPostgresDatabase('gw_tenants');
    const database = await openMigrated(fresh.url);
    const opened: Database<GroundworkTables>[] = [];
    return {
      database,
      reopen: async () => {
        const other = await createDatabase<GroundworkTables>(databaseConfig(fresh.url, { poolSize: 4 }), { logger: silentLogger() });
        opened.push(other);
        return other;
      },
      async close() {
        for (const other of opened) await other.close();
        await database.close();
        await fresh.drop();
      },
    };
  },
};

/** Every backend: SQLite, PGlite and PostgreSQL. */
export const TENANT_DATABASE_TARGETS: readonly TenantDatabaseTarget[] = [sqliteTarget, pgliteTarget, postgresTarget];
