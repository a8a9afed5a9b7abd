import type { ServerConfig } from '../config/app-config.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { ServiceBackend } from './service-backend.js';

/** What route handlers share: the backend, the settings and where to log and count. */
export interface ServerContext {
  readonly backend: ServiceBackend;
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Where HTTP metrics are recorded. */
  readonly metrics: GroundworkMetrics;
}
