import { Kysely, sql, type Transaction } from 'kysely';
import type { DatabaseConfig } from '../config/app-config.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { ConnectionCheck, Database, DatabaseSession, SessionOptions } from './database.js';
import { databaseHealthCheck, timedConnectionCheck } from './health-check.js';
import { MigrationRunner } from './migrations/migration-runner.js';
import type { AppMigrations } from './migrations/migration-source.js';
import { openDialect } from './open-dialect.js';
import { poolQueryBuilder } from './pool-query-builder.js';
import { PostgresFamilyDialect } from './postgres-family-dialect.js';
import { type PreparedExecutor, prepareQuery } from './prepared-query.js';
import { openReplicas } from './replicas/open-replicas.js';
import { ReadRoutingDriver } from './replicas/read-routing-driver.js';
import { replicaHealthCheck } from './replicas/replica-health-check.js';
import type { ReplicaSet } from './replicas/replica-set.js';
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
  const pooled = poolQueryBuilder<DB>(opened.dialect, opened.driver);
  const db = pooled.db;
  const system = config.dialect === 'sqlite' ? 'sqlite' : 'postgresql';
  const runner = new SessionRunner<DB>({
    db,
    executor: pooled.uncountedExecutor,
    dialect: opened.dialect,
    driver: opened.driver,
    logger,
    metrics,
    clock,
    system,
  });
  pooled.route((compiled) => runner.onPool(compiled));
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
  let replicas: ReplicaSet<DB> | undefined;
  try {
    replicas = await openReplicas<DB>(config, {
      logger,
      metrics,
      clock,
      ...(deps.applicationName === undefined ? {} : { applicationName: deps.applicationName }),
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const dbRead =
    replicas === undefined
      ? db
      : new Kysely<DB>({
          dialect: new PostgresFamilyDialect(new ReadRoutingDriver(replicas as ReplicaSet<unknown>, opened.driver, logger)),
        });
  /** The runner whose transaction the caller is in (nested calls stay on its connection), if any. */
  const activeRunner = (): SessionRunner<DB> | undefined => {
    if (runner.inTransaction) return runner;
    return replicas?.replicas.find((replica) => replica.runner.inTransaction)?.runner;
  };
  const migrations = new MigrationRunner(db as Kysely<unknown>, deps.migrations ?? config.migrationsDir, logger);
  let closing: Promise<void> | undefined;
  const executePrepared: PreparedExecutor = (compiled, on) =>
    (replicas === undefined ? runner : (activeRunner() ?? runner)).execute(compiled, on);

  const validateConnection = (): Promise<ConnectionCheck> => timedConnectionCheck(() => sql`select 1`.execute(db));

  const database: Database<DB> = {
    db,
    dialect: config.dialect,
    dbRead,
    withSession<T>(fn: (tx: Transaction<DB>) => Promise<T>, options?: SessionOptions): Promise<T> {
      const active = replicas === undefined ? undefined : activeRunner();
      if (active !== undefined) return active.run(fn, options);
      if (replicas !== undefined && options?.readOnly === true && options.consistency !== 'primary') {
        return replicas.read(fn, options, runner);
      }
      if (replicas !== undefined && options?.readOnly === true) replicas.count('primary');
      return runner.run(fn, options);
    },
    getDatabaseSession: (): DatabaseSession<DB> => (replicas === undefined ? runner : (activeRunner() ?? runner)).current(),
    prepare: (build) => prepareQuery(db, build, executePrepared),
    validateConnection,
    migrate: (direction = 'up', scope) => migrations.migrate(direction, scope),
    migrationStatus: () => migrations.status(),
    poolStats: () => opened.stats(),
    healthCheck: databaseHealthCheck(validateConnection, () => opened.stats(), config),
    ...(replicas === undefined
      ? {}
      : { replicaHealthCheck: replicaHealthCheck(replicas as ReplicaSet<unknown>, config.replicas?.maxLagMs ?? 0) }),
    replicaStatus: () => replicas?.status() ?? [],
    close: () => {
      closing ??= (async () => {
        // The primary pool is closed whatever closing the replicas does; a replica's failure is reported after.
        // Sessions and the pooled builder's own transactions (`db.transaction()`: budget
        // settlements, ledger batches, migrations) are both waited for.
        const [drained, pooledDrained, replicaFailure] = await Promise.all([
          runner.drain(config.closeTimeoutMs),
          pooled.drain(config.closeTimeoutMs, clock),
          replicas?.close(config.closeTimeoutMs).then(
            () => undefined,
            (error: unknown) => ({ error }),
          ),
        ]);
        if (!drained || !pooledDrained) {
          logger.warn(
            { running: runner.running + pooled.running, timeoutMs: config.closeTimeoutMs },
            'database: closing with transactions still running',
          );
        }
        await db.destroy();
        // dbRead falling back to the primary checks connections out of its driver directly, which
        // Kysely does not count as initialising it: its destroy() would then leave the pool open.
        // The driver ends its pool once, however often it is destroyed.
        if (replicas !== undefined) await opened.driver.destroy();
        refreshGauges?.();
        if (replicaFailure !== undefined) throw replicaFailure.error;
        logger.debug({ url: config.displayUrl }, 'database: closed');
      })();
      return closing;
    },
  };
  logger.debug({ url: config.displayUrl, dialect: config.dialect, replicas: config.replicas?.labels.length ?? 0 }, 'database: opened');
  return database;
}
