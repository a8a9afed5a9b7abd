import { GroundworkError } from '../errors/groundwork-error.js';
import type { PoolStats } from './pool-stats.js';

/**
 * No database connection became free within `DB_ACQUIRE_TIMEOUT_MS`. Carries the pool's state
 * at the moment of the timeout, so the message says whether the pool is too small or leaking.
 */
export class PoolTimeoutError extends GroundworkError {
  /** How long the caller waited, in milliseconds. */
  readonly waitedMs: number;
  /** The pool's counts when the wait gave up. */
  readonly pool: PoolStats;

  constructor(waitedMs: number, pool: PoolStats) {
    super(
      'db_pool_timeout',
      `No database connection became free within ${waitedMs} ms (pool: ${pool.total} open of ${pool.max} max, ${pool.idle} idle, ${pool.waiting} waiting). ` +
        'Raise DB_POOL_SIZE or DB_MAX_OVERFLOW, shorten transactions, or look for sessions that never finish.',
      { retryable: true },
    );
    this.waitedMs = waitedMs;
    this.pool = pool;
  }
}
