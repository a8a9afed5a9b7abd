import type { Kysely } from 'kysely';
import type { Secret } from '../config/secret.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { HealthReport } from '../observability/health.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';
import type { RateLimitLevels } from '../resilience/rate-limiter.js';
import type { TenantAdmission } from '../tenants/tenant-admission.js';
import type { TenantRepository } from '../tenants/tenant-repository.js';

/** The keys and teams the dashboard manages, when the service has virtual keys. */
export interface DashboardTenants {
  repository: Pick<TenantRepository, 'createKey' | 'listKeys' | 'updateKey' | 'revokeKey' | 'listTeams' | 'createTeam' | 'updateTeam'>;
  /** Called after every change, so that this replica sees it at once. */
  invalidate(): void;
  /** Each key's per-minute buckets, for the live view. */
  admission?: Pick<TenantAdmission, 'rateLimitLevels'> | undefined;
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
  /** A provider and model's rate-limit buckets and permit line, read without taking a permit. */
  rateLimitLevels?(provider: string, model: string): Promise<RateLimitLevels | undefined>;
  /** Per provider: calls in flight, callers waiting for a slot, and the slots. */
  concurrency?(): Array<{ provider: string; active: number; waiting: number; maxConcurrent: number }>;
  /** Each dependency's state (local checks only, no provider request). */
  health(): Promise<HealthReport>;
  /** Whether the service records prompt and answer text (`LLM_LOG_CONTENT=true`): only then does a call's detail show it. @default false */
  readonly logContent?: boolean | undefined;
  /** Keys and teams; undefined without virtual keys. */
  readonly tenants?: DashboardTenants | undefined;
  /** The time, epoch ms. @default Date.now */
  now?(): number;
}
