import type { Kysely } from 'kysely';
import type { Secret } from '../config/secret.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { HealthReport } from '../observability/health.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';
import type { TenantRepository } from '../tenants/tenant-repository.js';

/** The keys and teams the dashboard manages, when the service has virtual keys. */
export interface DashboardTenants {
  repository: Pick<TenantRepository, 'createKey' | 'listKeys' | 'updateKey' | 'revokeKey' | 'listTeams'>;
  /** Called after every change, so that this replica sees it at once. */
  invalidate(): void;
}

/**
 * What the dashboard (`/ui`) and its JSON API (`/admin/api/…`) read: the usage ledger, the live
 * state of breakers, metrics and health, and the keys when tenants are on.
 */
export interface Dashboard {
  /** The database holding the `llm_usage` ledger (and the keys tables). */
  readonly db: Kysely<GroundworkTables>;
  /** `GROUNDWORK_ADMIN_KEY`; undefined: the dashboard is open, and served on a loopback bind only. */
  readonly adminKey: Secret | undefined;
  /** The registry whose counters the live view reads. */
  readonly metrics: GroundworkMetrics;
  /** Every circuit this process has used. */
  breakers(): Promise<CircuitState[]>;
  /** Each dependency's state (local checks only, no provider request). */
  health(): Promise<HealthReport>;
  /** Keys and teams; undefined without virtual keys. */
  readonly tenants?: DashboardTenants | undefined;
  /** The time, epoch ms. @default Date.now */
  now?(): number;
}
