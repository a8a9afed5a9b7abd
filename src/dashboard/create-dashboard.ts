import type { Kysely } from 'kysely';
import type { Secret } from '../config/secret.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import type { HealthOptions, HealthReport } from '../observability/health.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';
import type { Dashboard, DashboardTenants } from './dashboard.js';

/** The facade members the dashboard reads, typed structurally so that `Infrastructure` fits as it is. */
export interface DashboardInfrastructure {
  // biome-ignore lint/suspicious/noExplicitAny: any application schema holds Groundwork's tables
  readonly database: { readonly db: Kysely<any> };
  readonly metrics: GroundworkMetrics;
  readonly pipeline: { breakerStates(): Promise<CircuitState[]> };
  health(options?: HealthOptions): Promise<HealthReport>;
}

/** The dashboard over the facade's ledger, breakers, metrics and health, and the tenants' keys when given. */
export function createDashboard(
  infrastructure: DashboardInfrastructure,
  options: { adminKey: Secret | undefined; tenants?: DashboardTenants | undefined },
): Dashboard {
  return {
    db: groundworkTables(infrastructure.database.db),
    adminKey: options.adminKey,
    metrics: infrastructure.metrics,
    breakers: () => infrastructure.pipeline.breakerStates(),
    health: () => infrastructure.health(),
    tenants: options.tenants,
  };
}
