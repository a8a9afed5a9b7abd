import { Kysely, sql, type Transaction } from 'kysely';
import type { DatabaseConfig } from '../config/app-config.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { scrubSecrets } from '../observability/redact.js';
import type { ConnectionCheck, Database, DatabaseSession, SessionOptions } from './database.js';
import { databaseHealthCheck } from './health-check.js';
import { MigrationRunner } from './migrations/migration-runner.js';
import type { AppMigrations } from './migrations/migration-source.js';
import { openDialect } from './open-dialect.js';
import { SessionRunner } from './session-runner.js';

/** What {@link createDatabase} needs besides the config. */
export interface DatabaseDependencies {
  readonly logger: Logger;
  readonly metrics?: GroundworkMetrics;
  readonly clock?: Clock;
  /** The application's migrations: a folder, a list or a Kysely provider. @default config.migrationsDir */
  readonly migrations?: AppMigrations;
  /** Shown in PostgreSQL's `pg_stat_activity`; a URL's `application_name` wins. @default 'groundwork' */
  readonly applicationName?: string;
}

/**
 * Opens the database `DATABASE_URL` names — SQLite (better-sqlite3), PGlite or PostgreSQL
 * (`pg` pool) — behind one Kysely query builder, with transactions, migrations, health and
 * pool metrics. It does not migrate: call `migrate('up')` (or `groundwork migrate up`).
 */
export async function createDatabase<DB = unknown>(config: DatabaseConfig, deps: DatabaseDependencies): Promise<Database<DB>> {
  const logger = deps.logger.child({ component: 'database' });
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics;
  let refreshGauges: (() => void) | undefined;
  const opened = await openDialect(config, {
    acquireTimeoutMs: config.acquireTimeoutMs,
    displayUrl: config.displayUrl,
    clock,
    logger,
    ...(deps.applicationName === undefined ? {} : { applicationName: deps.applicationName }),
    ...(metrics === undefined ? {} : { onPoolChange: () => refreshGauges?.() }),
  });
  const db = new Kysely<DB>({ dialect: opened.dialect });
  const system = config.dialect === 'sqlite' ? 'sqlite' : 'postgresql';
  const runner = new SessionRunner<DB>({ db, dialect: opened.dialect, driver: opened.driver, logger, metrics, clock, system });
  if (metrics !== undefined) {
    const total = metrics.dbPool.labels('total');
    const idle = metrics.dbPool.labels('idle');
    const waiting = metrics.dbPool.labels('waiting');
    refreshGauges = () => {
      const stats = opened.stats();
      total.set(stats.total);
      idle.set(stats.idle);
      waiting.set(stats.waiting);
    };
    refreshGauges();
  }
  const migrations = new MigrationRunner(db as Kysely<unknown>, deps.migrations ?? config.migrationsDir, logger);
  let closing: Promise<void> | undefined;

  const validateConnection = async (): Promise<ConnectionCheck> => {
    const started = performance.now();
    try {
      await sql`select 1`.execute(db);
      return { ok: true, latencyMs: elapsed(started) };
    } catch (error) {
      return { ok: false, latencyMs: elapsed(started), error: scrubSecrets(error instanceof Error ? error.message : String(error)) };
    }
  };

  const database: Database<DB> = {
    db,
    dialect: config.dialect,
    withSession<T>(fn: (tx: Transaction<DB>) => Promise<T>, options?: SessionOptions): Promise<T> {
      return runner.run(fn, options);
    },
    getDatabaseSession: (): DatabaseSession<DB> => runner.current(),
    validateConnection,
    migrate: (direction = 'up') => migrations.migrate(direction),
    migrationStatus: () => migrations.status(),
    poolStats: () => opened.stats(),
    healthCheck: databaseHealthCheck(validateConnection, () => opened.stats(), config),
    close: () => {
      closing ??= (async () => {
        const drained = await runner.drain(config.closeTimeoutMs);
        if (!drained) {
          logger.warn({ running: runner.running, timeoutMs: config.closeTimeoutMs }, 'database: closing with transactions still running');
        }
        await db.destroy();
        refreshGauges?.();
        logger.debug({ url: config.displayUrl }, 'database: closed');
      })();
      return closing;
    },
  };
  logger.debug({ url: config.displayUrl, dialect: config.dialect }, 'database: opened');
  return database;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
