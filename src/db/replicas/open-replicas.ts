import type { DatabaseConfig } from '../../config/app-config.js';
import type { Clock } from '../../internal/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { GroundworkMetrics } from '../../observability/metrics.js';
import { Replica, type ReplicaOptions } from './replica.js';
import { lagTimeoutMs, ReplicaSet } from './replica-set.js';

/** What {@link openReplicas} needs besides the config. */
export interface OpenReplicasOptions {
  readonly logger: Logger;
  readonly metrics: GroundworkMetrics | undefined;
  readonly clock: Clock;
  readonly applicationName?: string;
  /** Opens one replica; {@link Replica.open} unless a test hands in another. */
  readonly openReplica?: (options: ReplicaOptions) => Promise<Replica<unknown>>;
}

/**
 * Opens a pool per `DATABASE_REPLICA_URLS` entry and measures each replica once, so the first
 * reads are routed on facts; undefined when none are configured (or the database is embedded).
 */
export async function openReplicas<DB>(config: DatabaseConfig, options: OpenReplicasOptions): Promise<ReplicaSet<DB> | undefined> {
  const replicas = config.replicas;
  if (replicas?.urls === undefined || config.dialect !== 'postgres') return undefined;
  const urls = replicas.urls
    .reveal()
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  const openReplica = (options.openReplica ?? Replica.open) as (options: ReplicaOptions) => Promise<Replica<DB>>;
  const attempts = await Promise.allSettled(
    urls.map((url, index) =>
      openReplica({
        index,
        label: replicas.labels[index] ?? `replica-${index + 1}`,
        url,
        config,
        logger: options.logger,
        metrics: options.metrics,
        clock: options.clock,
        lagTimeoutMs: lagTimeoutMs(replicas.checkIntervalMs),
        ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
      }),
    ),
  );
  const opened: Replica<DB>[] = [];
  for (const attempt of attempts) if (attempt.status === 'fulfilled') opened.push(attempt.value);
  const failed = attempts.find((attempt): attempt is PromiseRejectedResult => attempt.status === 'rejected');
  if (failed !== undefined) {
    // The replicas that did open hold pools (and may hold connections): close them before failing,
    // each whatever the others do, and fail with the open failure, not a close's.
    await Promise.allSettled(opened.map((replica) => replica.close(0)));
    throw failed.reason;
  }
  const set = new ReplicaSet<DB>(opened, {
    maxLagMs: replicas.maxLagMs,
    checkIntervalMs: replicas.checkIntervalMs,
    clock: options.clock,
    logger: options.logger,
    metrics: options.metrics,
  });
  try {
    await set.start();
  } catch (error) {
    await set.close(0);
    throw error;
  }
  return set;
}
