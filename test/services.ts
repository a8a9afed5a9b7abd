/*
 * Where the integration tests find PostgreSQL and Redis. `.ci/run` exports these; locally they
 * default to the services on this machine. A service that is not reachable fails the test that
 * needs it: it is never skipped silently.
 */

/** A PostgreSQL server URL for integration tests (a database on it, usually `postgres`). */
export function postgresUrl(): string {
  return process.env.GROUNDWORK_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** A Redis URL for integration tests. */
export function redisUrl(): string {
  return process.env.GROUNDWORK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A name unique to this test process, for databases, schemas and key prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
