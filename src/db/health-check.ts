import type { DatabaseConfig } from '../config/app-config.js';
import type { HealthCheck } from '../observability/health.js';
import { scrubSecrets } from '../observability/redact.js';
import type { ConnectionCheck } from './database.js';
import type { PoolStats } from './pool-stats.js';

/** The `database` health check: required; `down` when `SELECT 1` fails, with the pool's counts. */
export function databaseHealthCheck(
  validate: () => Promise<ConnectionCheck>,
  stats: () => PoolStats,
  config: Pick<DatabaseConfig, 'dialect' | 'displayUrl'>,
): HealthCheck {
  return {
    name: 'database',
    required: true,
    async check() {
      const result = await validate();
      const info = { dialect: config.dialect, pool: stats() };
      if (result.ok) return { status: 'ok', latencyMs: result.latencyMs, info };
      return {
        status: 'down',
        latencyMs: result.latencyMs,
        info,
        detail: `${config.displayUrl} does not answer (${result.error ?? 'unknown error'}); check DATABASE_URL and that the server is up`,
      };
    },
  };
}

/**
 * Runs `probe` (a `select 1`, through whichever driver) and answers whether it succeeded and how
 * long it took, in ms to two decimals, with its error scrubbed of secrets: a {@link ConnectionCheck}.
 */
export async function timedConnectionCheck(probe: () => unknown): Promise<ConnectionCheck> {
  const started = performance.now();
  try {
    await probe();
    return { ok: true, latencyMs: elapsed(started) };
  } catch (error) {
    return { ok: false, latencyMs: elapsed(started), error: scrubSecrets(error instanceof Error ? error.message : String(error)) };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
