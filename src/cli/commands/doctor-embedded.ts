import type { AppConfig } from '../../config/app-config.js';
import { databaseHealthCheck, timedConnectionCheck } from '../../db/health-check.js';
import { openSqliteClient } from '../../db/open-dialect.js';
import { unconfiguredLlmCheck } from '../../llm/llm-health-check.js';
import { type HealthOptions, type HealthReport, runHealthChecks } from '../../observability/health.js';

/** What the doctor checks its dependencies through: the infrastructure, or the SQLite driver alone. */
export interface DoctorDependencies {
  health(options: HealthOptions): Promise<HealthReport>;
  close(): Promise<void>;
}

/**
 * Whether `config` describes the embedded defaults: SQLite (which has no replicas), no Redis, no routes file and no
 * LLM provider. Their only checks are the database's `select 1` and the LLM's "not configured", which the
 * doctor runs on better-sqlite3 directly ({@link openEmbeddedChecks}) rather than opening the whole
 * infrastructure (the query builder, the LLM client, the resilience stack) to make the same two checks.
 */
export function isEmbeddedDefaults(config: AppConfig): boolean {
  return (
    config.database.dialect === 'sqlite' && config.redis.url === undefined && config.llm.routesFile === undefined && !config.llm.configured
  );
}

/**
 * Opens the SQLite database as `createInfrastructure` does and offers the same checks its infrastructure
 * would register for the embedded defaults: `database` (`select 1`) and `llm` (not configured).
 */
export async function openEmbeddedChecks(config: AppConfig): Promise<DoctorDependencies> {
  const client = await openSqliteClient(config.database.url.reveal());
  const select = client.prepare('select 1');
  const database = databaseHealthCheck(
    () => timedConnectionCheck(() => select.get()),
    () => ({ total: 1, idle: 1, waiting: 0, max: 1 }),
    config.database,
  );
  const checks = [{ name: 'config', required: true, check: async () => ({ status: 'ok' as const }) }, database, unconfiguredLlmCheck()];
  return {
    health: (options) => runHealthChecks(checks, options),
    close: async () => {
      if (client.open) client.close();
    },
  };
}
