import { type Driver, Kysely } from 'kysely';
import type { DatabaseConfig } from '../../config/app-config.js';
import { Secret } from '../../config/secret.js';
import { maskUrlCredentials } from '../../config/urls.js';
import type { Clock } from '../../internal/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { GroundworkMetrics } from '../../observability/metrics.js';
import { openDialect } from '../open-dialect.js';
import type { TransactionDriver } from '../open-transaction.js';
import type { PoolStats } from '../pool-stats.js';
import { SessionRunner } from '../session-runner.js';
import { LagProbe } from './lag-probe.js';
import type { LagMark } from './replica-lag.js';

/** Where a replica stands: `healthy` takes reads; `lagging` and `down` are skipped until they recover. */
export type ReplicaState = 'starting' | 'healthy' | 'lagging' | 'down';

/** What opening a replica needs. */
export interface ReplicaOptions {
  readonly index: number;
  /** `host:port/database`: safe to print, used in logs, health and metric labels. */
  readonly label: string;
  readonly url: string;
  /** The primary's settings; the replica's pool has the same size and timeouts. */
  readonly config: DatabaseConfig;
  readonly logger: Logger;
  readonly metrics: GroundworkMetrics | undefined;
  readonly clock: Clock;
  /** A lag measurement's bound in ms (connecting and the query each give up after it). */
  readonly lagTimeoutMs: number;
  readonly applicationName?: string;
}

/** One read replica: its own pool and session runner, and its last measured state. */
export class Replica<DB> {
  readonly index: number;
  readonly label: string;
  readonly db: Kysely<DB>;
  readonly runner: SessionRunner<DB>;
  readonly driver: Driver & TransactionDriver;
  readonly #stats: () => PoolStats;
  state: ReplicaState = 'starting';
  /** Last measured lag in ms; undefined before the first measurement or while unreachable. */
  lagMs: number | undefined;
  /** Why the replica is skipped, free of secrets. */
  reason: string | undefined;
  /** When it was last measured (epoch ms). */
  checkedAt: number | undefined;
  /** The received WAL position at the last measurement (see `measureLag`). */
  mark: LagMark | undefined;
  /** The lag measurement's own connection; one measurement at a time. */
  readonly probe: LagProbe;

  private constructor(options: ReplicaOptions, opened: Awaited<ReturnType<typeof openDialect>>, probe: LagProbe) {
    this.index = options.index;
    this.probe = probe;
    this.label = options.label;
    this.db = new Kysely<DB>({ dialect: opened.dialect });
    this.driver = opened.driver;
    this.#stats = () => opened.stats();
    this.runner = new SessionRunner<DB>({
      db: this.db,
      dialect: opened.dialect,
      driver: opened.driver,
      logger: options.logger,
      metrics: options.metrics,
      clock: options.clock,
      system: 'postgresql',
    });
  }

  /** Opens the replica's pools (lazily: no connection is made until the first use). */
  static async open<DB>(options: ReplicaOptions): Promise<Replica<DB>> {
    const { config, url } = options;
    const replicaConfig: DatabaseConfig = {
      ...config,
      url: new Secret('DATABASE_REPLICA_URLS', url),
      displayUrl: maskUrlCredentials(url),
    };
    const opened = await openDialect(replicaConfig, {
      acquireTimeoutMs: config.acquireTimeoutMs,
      displayUrl: replicaConfig.displayUrl,
      clock: options.clock,
      logger: options.logger,
      readOnly: true,
      ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
    });
    let probe: LagProbe;
    try {
      probe = await LagProbe.open({
        config: replicaConfig,
        timeoutMs: options.lagTimeoutMs,
        label: options.label,
        logger: options.logger,
        ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
      });
    } catch (error) {
      await opened.driver.destroy();
      throw error;
    }
    return new Replica<DB>(options, opened, probe);
  }

  /** The replica pool's counts now. */
  stats(): PoolStats {
    return this.#stats();
  }

  /**
   * Waits for running sessions up to `timeoutMs`, then closes every connection, the lag
   * measurement's too, each whatever the other does; then fails with the first failure, if any.
   */
  async close(timeoutMs: number): Promise<boolean> {
    const drained = await this.runner.drain(timeoutMs);
    // The driver itself, not `db.destroy()`: `dbRead` checks connections out of the driver directly,
    // so Kysely may never have initialised it, and would then leave its pool open.
    const [pool, probe] = await Promise.allSettled([this.driver.destroy(), this.probe.close()]);
    if (pool.status === 'rejected') throw pool.reason;
    if (probe.status === 'rejected') throw probe.reason;
    return drained;
  }
}
