import type { HealthCheck } from '../../observability/health.js';
import type { ReplicaSet } from './replica-set.js';

/**
 * The `database:replicas` check: optional (reads fall back to the primary), `ok` when every
 * replica takes reads, `degraded` when any is skipped, with each one's state and lag.
 */
export function replicaHealthCheck(replicas: ReplicaSet<unknown>, maxLagMs: number): HealthCheck {
  return {
    name: 'database:replicas',
    required: false,
    async check() {
      const status = replicas.status();
      const healthy = status.filter((replica) => replica.state === 'healthy').length;
      const info = { maxLagMs, healthy, replicas: status };
      if (healthy === status.length) return { status: 'ok', info };
      const skipped = status.filter((replica) => replica.state !== 'healthy').map((replica) => `${replica.replica} (${replica.state})`);
      const detail =
        healthy === 0
          ? `no read replica is healthy (${skipped.join(', ')}): read-only sessions run on the primary`
          : `${skipped.join(', ')} skipped: reads go to the other replicas`;
      return { status: 'degraded', info, detail };
    },
  };
}
