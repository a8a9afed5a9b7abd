import pg from 'pg';

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

/**
 * Creates a database of its own on the test PostgreSQL server (for a test whose processes each
 * connect by URL); answers its URL and how to drop it, connections and all.
 */
export async function freshPostgresDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  await adminQuery(`create database "${name}"`);
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`drop database if exists "${name}" with (force)`) };
}

async function adminQuery(statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}
