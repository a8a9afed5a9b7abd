import type { CompiledQuery, QueryResult } from 'kysely';

/**
 * A driver that can run one statement on a connection checked out for it alone in a single step,
 * rather than a checkout, the statement and a release each awaited in turn (PostgreSQL's does,
 * over `pg`'s callbacks). The session runner sends the pooled query builder's statements there
 * once the driver is initialised; a driver without it keeps the three steps.
 */
export interface AloneStatementDriver {
  /** Checks a connection out, runs `compiledQuery` on it and releases it, as acquire, execute and release would. */
  executeAlone?<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>>;
}
