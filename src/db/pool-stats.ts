/** The state of a connection pool at one moment. */
export interface PoolStats {
  /** Connections open (idle and in use). */
  readonly total: number;
  /** Open connections nobody is using. */
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
  /** Most connections the pool will open (`DB_POOL_SIZE + DB_MAX_OVERFLOW`; 1 for embedded databases). */
  readonly max: number;
}
