import type { ServerConfig } from '../config/app-config.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import type { DashboardGuard } from '../dashboard/dashboard-guard.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { AdminApi } from './admin-api.js';
import type { AdminKeyLockout } from './admin-key-lockout.js';
import type { ServiceBackend } from './service-backend.js';
import type { ServiceTenants } from './service-tenants.js';

/** What route handlers share: the backend, the settings and where to log and count. */
export interface ServerContext {
  readonly backend: ServiceBackend;
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Where HTTP metrics are recorded. */
  readonly metrics: GroundworkMetrics;
  /** Virtual keys, when the service accepts them. */
  readonly tenants?: ServiceTenants | undefined;
  /** The admin API, when `GROUNDWORK_ADMIN_KEY` is set. */
  readonly admin?: AdminApi | undefined;
  /** Counts wrong admin keys across the admin API and the dashboard, and refuses keys (429) once too many failed. */
  readonly adminKeyLockout: AdminKeyLockout;
  /** The dashboard (`/ui`, `/admin/api/…`) and who may use it, when served. */
  readonly dashboard?: { dashboard: Dashboard; guard: DashboardGuard } | undefined;
}
