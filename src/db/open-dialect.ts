import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Dialect, Driver } from 'kysely';
import type { DatabaseConfig } from '../config/app-config.js';
import { makeDirectory } from '../internal/make-directory.js';
import type { Logger } from '../observability/logger.js';
import type { AloneStatementDriver } from './alone-statement-driver.js';
import type { DriverConfig } from './driver-config.js';
import type { TransactionDriver } from './open-transaction.js';
import type { PoolStats } from './pool-stats.js';

/** A dialect ready for Kysely, and how to read its pool's state. */
export interface OpenedDialect {
  readonly dialect: Dialect;
  /** The dialect's driver (the instance Kysely wraps), for driving transactions directly. */
  readonly driver: Driver & TransactionDriver & AloneStatementDriver;
  stats(): PoolStats;
}

/** The file path of an embedded database URL, or undefined for an in-memory one. */
export function embeddedPath(url: string, scheme: 'sqlite' | 'pglite'): string | undefined {
  let rest = url.slice(scheme.length + 1);
  if (rest.startsWith('//')) rest = rest.slice(2);
  if (rest === '' || rest === ':memory:' || rest === 'memory' || rest === 'memory://') return undefined;
  return rest;
}

/** Options of {@link openDialect} besides the config. */
export interface OpenDialectOptions extends DriverConfig {
  readonly logger: Logger;
  readonly applicationName?: string;
  readonly onPoolChange?: () => void;
  /** A PostgreSQL pool whose transactions are read-only by default (a replica's). */
  readonly readOnly?: boolean;
}

/** Opens the driver `DATABASE_URL` names: better-sqlite3, PGlite or a `pg` pool. */
export async function openDialect(config: DatabaseConfig, options: OpenDialectOptions): Promise<OpenedDialect> {
  const url = config.url.reveal();
  switch (config.dialect) {
    case 'sqlite': {
      const [client, { SqliteDialect }] = await Promise.all([openSqliteClient(url), import('./sqlite/sqlite-dialect.js')]);
      const dialect = new SqliteDialect(client, options);
      return { dialect, driver: dialect.driver, stats: () => dialect.driver.stats() };
    }
    case 'pglite': {
      const [{ PGlite }, { PgliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('./pglite/pglite-dialect.js')]);
      const path = embeddedPath(url, 'pglite');
      if (path !== undefined) makeDirectory(resolve(path), 'the PGlite database (DATABASE_URL)');
      const client = path === undefined ? new PGlite() : new PGlite(resolve(path));
      await client.waitReady;
      if (config.statementTimeoutMs !== undefined) await client.query(`set statement_timeout = ${Math.floor(config.statementTimeoutMs)}`);
      const dialect = new PgliteDialect(client, options);
      return { dialect, driver: dialect.driver, stats: () => dialect.driver.stats() };
    }
    case 'postgres': {
      const [{ createPgPool }, { PostgresDialect }] = await Promise.all([
        import('./postgres/create-pg-pool.js'),
        import('./postgres/postgres-dialect.js'),
      ]);
      const pool = await createPgPool(config, {
        ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
        ...(options.readOnly === true ? { readOnly: true } : {}),
      });
      const dialect = new PostgresDialect(pool, {
        ...options,
        maxConnections: config.poolSize + config.maxOverflow,
        namedStatements: config.preparedStatements !== false,
        namedBuilderStatements: config.namedBuilderStatements === true,
      });
      return { dialect, driver: dialect.driver, stats: () => dialect.driver.stats() };
    }
  }
}

/**
 * Opens the SQLite database a `sqlite:` URL names with better-sqlite3, as every Groundwork connection to it
 * is opened: its folder made, write-ahead logging on, foreign keys enforced. Loads no query builder.
 */
export async function openSqliteClient(url: string): Promise<BetterSqlite3.Database> {
  const { default: BetterSqlite } = await import('better-sqlite3');
  const path = embeddedPath(url, 'sqlite');
  if (path !== undefined) makeDirectory(dirname(resolve(path)), 'the SQLite database (DATABASE_URL)');
  const client = new BetterSqlite(path ?? ':memory:', { timeout: 0 });
  try {
    if (path !== undefined) await setJournalMode(client);
    client.pragma('foreign_keys = ON');
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/** WAL lets readers run beside the writer; switching can meet a lock held by another process, so it is retried briefly. */
async function setJournalMode(client: { pragma(source: string): unknown }): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      client.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (attempt >= 50 || (error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      // Waits without blocking the event loop: other work in the process goes on while the file is busy.
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
  }
}
