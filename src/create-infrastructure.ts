import type { Infrastructure, InfrastructureOptions } from './infrastructure.js';
import { requirePackage } from './internal/require-package.js';

/**
 * Reads and validates configuration (environment over `.env`), then opens what it describes:
 * the database, Redis when `REDIS_URL` is set, and the LLM client. Throws `ConfigError` naming
 * every invalid variable at once. Nothing is migrated: call `initDb()` or `groundwork migrate up`.
 *
 * The database layer, logger, metrics, resilience stack, jobs and tenants load on the first call,
 * not with `import('groundwork')`.
 */
export async function createInfrastructure<DB = Record<never, never>>(options: InfrastructureOptions = {}): Promise<Infrastructure<DB>> {
  // Kysely first, synchronously: the package's `sql` loads it synchronously too, which Node cannot
  // do while an import() of it is under way, so it is never left half-loaded between two awaits.
  requirePackage<typeof import('kysely')>('kysely', 'createInfrastructure');
  const { openInfrastructure } = await import('./open-infrastructure.js');
  return openInfrastructure<DB>(options);
}
