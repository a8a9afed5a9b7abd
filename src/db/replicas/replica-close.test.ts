import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshPostgresDatabase, postgresUrl, uniqueName } from '../../../test/services.js';
import { Secret } from '../../config/secret.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import { silentLogger } from '../../observability/logger.js';
import type { Database } from '../database.js';
import { type ContractTables, databaseConfig, openContractDatabase } from '../database-contract.test-helpers.js';
import { LagProbe } from './lag-probe.js';

/*
 * Closing a database with read replicas, against real PostgreSQL. The replica is the test
 * database itself, listed in DATABASE_REPLICA_URLS, with its lag readings saying it is in
 * recovery (a server that is not a standby is skipped): it takes reads through a pool and a lag
 * probe of its own, which is all closing needs, without a streaming replica's seconds of set-up.
 */

let primary: { url: string; drop(): Promise<void> };
/** A replica nothing listens for: it is down from the first measurement. */
const DOWN = 'postgres://postgres@127.0.0.1:1/postgres';

beforeAll(async () => {
  primary = await freshPostgresDatabase('gw_replica_close');
});

afterAll(async () => {
  await primary?.drop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Connections to the test server opened under `applicationName`, as the server counts them. */
async function connectionsNamed(applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where application_name = $1', [
      applicationName,
    ]);
    return rows[0]?.n ?? 0;
  } finally {
    await admin.end();
  }
}

/** Polls until the server no longer lists connections of `applicationName` (a closed socket's backend exits a moment later). */
async function connectionsGone(applicationName: string, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await connectionsNamed(applicationName);
    if (left === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A database whose one replica is the test database itself, read as a standby; its connections carry `applicationName`. */
function openWithReplica(applicationName: string): Promise<Database<ContractTables>> {
  const measure = LagProbe.prototype.measure;
  vi.spyOn(LagProbe.prototype, 'measure').mockImplementation(async function (this: LagProbe, ...args) {
    return { ...(await measure.apply(this, args)), inRecovery: true };
  });
  return openContractDatabase(
    primary.url,
    { replicas: { urls: new Secret('DATABASE_REPLICA_URLS', primary.url), labels: ['self'], maxLagMs: 10_000, checkIntervalMs: 1000 } },
    { applicationName },
  );
}

async function primaryRefuses(database: Database<ContractTables>): Promise<string> {
  return sql`select 1`.execute(database.db).then(
    () => 'answered',
    (error: unknown) => (error instanceof Error ? error.name : String(error)),
  );
}

describe('closing a database with read replicas', () => {
  it('closes the primary pool, every replica pool and the lag probe, and closing again succeeds too', async () => {
    const applicationName = uniqueName('gw_close');
    const database = await openWithReplica(applicationName);
    await sql`select 1`.execute(database.db);
    await database.withSession((tx) => sql`select 1`.execute(tx), { readOnly: true });
    expect(database.replicaStatus().map((status) => status.state)).toEqual(['healthy']);
    expect(await connectionsNamed(applicationName)).toBeGreaterThanOrEqual(3);

    await expect(database.close()).resolves.toBeUndefined();
    await expect(database.close()).resolves.toBeUndefined();
    expect(await connectionsGone(applicationName)).toBe(0);
    expect(await primaryRefuses(database)).toBe('DatabaseClosedError');
  });

  it('closes a replica pool that only dbRead used', async () => {
    const applicationName = uniqueName('gw_close_dbread');
    const database = await openWithReplica(applicationName);
    await sql`select 1`.execute(database.db);
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.dbRead)).rows).toEqual([{ one: 1 }]);
    expect(database.replicaStatus()[0]?.pool.total).toBe(1);

    await database.close();
    expect(await connectionsGone(applicationName)).toBe(0);
    expect(database.replicaStatus()[0]?.pool.total).toBe(0);
  });

  it('closes the primary pool when only dbRead used it, every replica being down', async () => {
    const applicationName = uniqueName('gw_close_fallback');
    const database = await openContractDatabase(
      primary.url,
      { replicas: { urls: new Secret('DATABASE_REPLICA_URLS', DOWN), labels: ['down'], maxLagMs: 10_000, checkIntervalMs: 1000 } },
      { applicationName },
    );
    expect(database.replicaStatus().map((status) => status.state)).toEqual(['down']);
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.dbRead)).rows).toEqual([{ one: 1 }]);
    expect(database.poolStats().total).toBe(1);

    await database.close();
    expect(await connectionsGone(applicationName)).toBe(0);
    expect(database.poolStats().total).toBe(0);
  });

  it('closes the primary pool when closing a replica fails, and fails with that error', async () => {
    const applicationName = uniqueName('gw_close_fails');
    const database = await openWithReplica(applicationName);
    await sql`select 1`.execute(database.db);
    await database.withSession((tx) => sql`select 1`.execute(tx), { readOnly: true });
    // The probe closes its connection, then reports a failure, as a pool whose end failed would.
    const failure = new Error('the lag probe could not be closed');
    const close = LagProbe.prototype.close;
    vi.spyOn(LagProbe.prototype, 'close').mockImplementation(async function (this: LagProbe) {
      await close.call(this);
      throw failure;
    });

    await expect(database.close()).rejects.toBe(failure);
    expect(await primaryRefuses(database)).toBe('DatabaseClosedError');
    expect(database.poolStats().total).toBe(0);
    expect(database.replicaStatus()[0]?.pool.total).toBe(0);
    // The same outcome again, rather than a second attempt at pools already closed.
    await expect(database.close()).rejects.toBe(failure);
    expect(await connectionsGone(applicationName)).toBe(0);
  });
});

describe('closing an infrastructure with DATABASE_REPLICA_URLS', () => {
  it('logs no failure and leaves no connection open', async () => {
    const applicationName = uniqueName('gw_close_infra');
    const withName = (url: string): string => {
      const parsed = new URL(url);
      parsed.searchParams.set('application_name', applicationName);
      return parsed.toString();
    };
    const captured = captureLogger('debug');
    const infra = await createInfrastructure({
      env: { DATABASE_URL: withName(primary.url), DATABASE_REPLICA_URLS: withName(primary.url), DB_POOL_SIZE: '2' },
      envFile: false,
      logger: captured.logger,
    });
    await sql`select 1`.execute(infra.db);
    await sql`select 1`.execute(infra.dbRead);
    await infra.withSession((tx) => sql`select 1`.execute(tx), { readOnly: true });

    await infra.close();
    expect(captured.records.filter((record) => String(record.msg).includes('failed'))).toEqual([]);
    expect(await connectionsGone(applicationName)).toBe(0);
  });
});

describe('LagProbe.close', () => {
  it('closes once, answering the same promise when called again', async () => {
    const applicationName = uniqueName('gw_probe_close');
    const probe = await LagProbe.open({
      config: databaseConfig(primary.url),
      timeoutMs: 2000,
      label: 'self',
      logger: silentLogger(),
      applicationName,
    });
    await probe.measure(undefined, () => Date.now());
    expect(await connectionsNamed(applicationName)).toBe(1);
    const first = probe.close();
    const second = probe.close();
    expect(second).toBe(first);
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
    await expect(probe.close()).resolves.toBeUndefined();
    expect(await connectionsGone(applicationName)).toBe(0);
  });
});
