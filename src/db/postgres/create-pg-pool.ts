import type { DatabaseConfig } from '../../config/app-config.js';
import type { PgPool } from './pg-client.js';
import { tlsOptions } from './tls-options.js';

/** Options of {@link createPgPool} that do not come from `DatabaseConfig`. */
export interface PgPoolOptions {
  /** Shown in `pg_stat_activity`; a URL's `application_name` wins. @default 'groundwork' */
  readonly applicationName?: string;
  /**
   * Every transaction (and every bare statement) is `READ ONLY` by default: for a replica's pool, so
   * that a server listed as a replica which is not a standby (promoted, or the primary listed by
   * mistake) still refuses writes that reach it before its next lag measurement finds it out.
   * Added to the URL's own `options` parameter, if it has one.
   */
  readonly readOnly?: boolean;
}

const READ_ONLY = '-c default_transaction_read_only=on';

/**
 * The URL with `default_transaction_read_only` added to its `options` parameter: `pg` lets a
 * URL's `options` replace the pool's own, which would drop the setting without a word.
 */
function readOnlyUrl(connectionString: string): string {
  const parsed = new URL(connectionString);
  const given = parsed.searchParams.get('options')?.trim();
  // Last, so that it wins over the same setting given in the URL.
  parsed.searchParams.set('options', given === undefined || given === '' ? READ_ONLY : `${given} ${READ_ONLY}`);
  return parsed.toString();
}

/**
 * Opens a `pg` pool: `DB_POOL_SIZE` connections kept, up to `DB_POOL_SIZE + DB_MAX_OVERFLOW`
 * under load, the extra ones closed after `DB_IDLE_TIMEOUT_MS` idle; TLS from the URL and
 * `DB_SSL_CA`; `DB_STATEMENT_TIMEOUT_MS` as the server-side statement timeout; clients in pipeline mode.
 */
export async function createPgPool(config: DatabaseConfig, options: PgPoolOptions = {}): Promise<PgPool> {
  const { default: pg } = await import('pg');
  const { connectionString, ssl } = tlsOptions(config.url.reveal(), config.sslCaPath);
  return new pg.Pool({
    connectionString: options.readOnly === true ? readOnlyUrl(connectionString) : connectionString,
    ssl,
    application_name: options.applicationName ?? 'groundwork',
    min: config.poolSize,
    max: config.poolSize + config.maxOverflow,
    idleTimeoutMillis: config.idleTimeoutMs,
    connectionTimeoutMillis: config.acquireTimeoutMs,
    allowExitOnIdle: true,
    // Queries queued on a client are written at once instead of one per round trip: a transaction's
    // BEGIN travels with its first statement (see postgres-driver.ts).
    pipeline: true,
    ...(config.statementTimeoutMs === undefined ? {} : { statement_timeout: config.statementTimeoutMs }),
  }) as unknown as PgPool;
}
