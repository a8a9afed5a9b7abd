import type { DatabaseConfig } from '../../config/app-config.js';
import type { Clock } from '../../internal/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { GroundworkMetrics } from '../../observability/metrics.js';
import { Replica } from './replica.js';
import { ReplicaSet } from './replica-set.js';

/** What {@link openReplicas} needs besides the config. */
export interface OpenReplicasOptions {
  readonly logger: Logger;
  readonly metrics: GroundworkMetrics | undefined;
  readonly clock: Clock;
  readonly applicationName?: string;
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
  const opened = await Promise.all(
    urls.map((url, index) =>
      Replica.open<DB>({
        index,
        label: replicas.labels[index] ?? `replica-${index + 1}`,
        url,
        config,
        logger: options.logger,
        metrics: options.metrics,
        clock: options.clock,
        ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
      }),
    ),
  );
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
