import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReplica, type TestReplica } from '../../../test/replica.js';
import { freshPostgresDatabase, postgresUrl, uniqueName } from '../../../test/services.js';
import { loadConfig } from '../../config/load-config.js';
import { Secret } from '../../config/secret.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { systemClock } from '../../internal/clock.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import { ManualClock } from '../../testing/manual-clock.js';
import { LagProbe } from './lag-probe.js';
import { openReplicas } from './open-replicas.js';
import { Replica } from './replica.js';
import { measureLag } from './replica-lag.js';
import { StallingProxy } from './stalling-proxy.test-helpers.js';

/*
 * Read replicas against a real streaming replica of the test server, made by pg_basebackup and
 * started on a port of its own (test/replica.ts). One replica serves the whole file; the test
 * that stops it starts it again.
 */

interface Tables {
  notes: { id: Generated<number>; body: string };
}

/** A password in every replica URL: trust auth ignores it, and it must show nowhere. */
const CANARY = 'replica-canary-Zq81xW';

/** A role without pg_read_all_stats, as applications usually connect. */
const READER = uniqueName('gw_reader');

let primary: { url: string; drop(): Promise<void> };
let replica: TestReplica;
const captured = captureLogger('debug');
const opened: Infrastructure<Tables>[] = [];

function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = CANARY;
  return parsed.toString();
}

async function open(env: Record<string, string>): Promise<Infrastructure<Tables>> {
  const infra = await createInfrastructure<Tables>({
    env: { DATABASE_URL: primary.url, DB_REPLICA_CHECK_INTERVAL_MS: '100', DB_POOL_SIZE: '2', ...env },
    envFile: false,
    logger: captured.logger,
  });
  opened.push(infra);
  // A replica catching up with a busy shared server may start out behind: begin once it takes reads.
  await until(() => infra.database.replicaStatus().every((status) => status.state === 'healthy'), 'the replicas take reads');
  return infra;
}

/** Polls `condition` every 50 ms until it holds (a real replica moves in real time). */
async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const inRecovery = sql<{ standby: boolean }>`select pg_is_in_recovery() as standby`;

async function readsCount(infra: Infrastructure<Tables>, target: string, label = ''): Promise<number> {
  const metric = await infra.metrics.dbReads.get();
  return metric.values
    .filter((value) => value.labels.target === target && (label === '' || value.labels.replica === label))
    .reduce((sum, value) => sum + value.value, 0);
}

beforeAll(async () => {
  primary = await freshPostgresDatabase('gw_replicas');
  const setup = await createInfrastructure<Tables>({ env: { DATABASE_URL: primary.url }, envFile: false });
  await sql`create table notes (id serial primary key, body text not null)`.execute(setup.db);
  await sql.raw(`create role "${READER}" login`).execute(setup.db);
  await sql.raw(`grant select on notes to "${READER}"`).execute(setup.db);
  await setup.close();
  replica = await startReplica(new URL(primary.url).pathname.slice(1));
  // The table exists on the replica once it has replayed its creation.
  await until(
    async () => (await replica.query<{ t: string | null }>(`select to_regclass('notes')::text as t`))[0]?.t === 'notes',
    'the replica has the table',
  );
}, 120_000);

afterAll(async () => {
  for (const infra of opened) await infra.close();
  await replica?.remove();
  await primary?.drop();
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`drop role if exists "${READER}"`);
  await admin.end();
}, 60_000);

describe('routing', () => {
  it('runs read-only sessions and dbRead on the replica, everything else on the primary', async () => {
    const infra = await open({ DATABASE_REPLICA_URLS: withPassword(replica.url) });
    const onReplica = await infra.withSession(async (tx) => (await inRecovery.execute(tx)).rows[0]?.standby, { readOnly: true });
    expect(onReplica).toBe(true);
    const onPrimary = await infra.withSession(async (tx) => (await inRecovery.execute(tx)).rows[0]?.standby);
    expect(onPrimary).toBe(false);
    const forced = await infra.withSession(async (tx) => (await inRecovery.execute(tx)).rows[0]?.standby, {
      readOnly: true,
      consistency: 'primary',
    });
    expect(forced).toBe(false);
    expect((await inRecovery.execute(infra.dbRead)).rows[0]?.standby).toBe(true);
    expect((await inRecovery.execute(infra.db)).rows[0]?.standby).toBe(false);
    expect(await readsCount(infra, 'replica')).toBe(2);
    expect(await readsCount(infra, 'primary')).toBe(1);
  });

  it('reads your own write with consistency: primary, and the replica catches up', async () => {
    const infra = await open({ DATABASE_REPLICA_URLS: withPassword(replica.url) });
    const id = await infra.withSession(async (tx) => {
      const row = await tx.insertInto('notes').values({ body: 'written' }).returning('id').executeTakeFirstOrThrow();
      return row.id;
    });
    const mine = await infra.withSession((tx) => tx.selectFrom('notes').select('body').where('id', '=', id).executeTakeFirst(), {
      readOnly: true,
      consistency: 'primary',
    });
    expect(mine?.body).toBe('written');
    await until(
      async () => (await infra.dbRead.selectFrom('notes').select('id').where('id', '=', id).executeTakeFirst()) !== undefined,
      'the replica shows the write',
    );
  });

  it('keeps nested sessions on their transaction, and refuses writes in a read-only session and through dbRead', async () => {
    const infra = await open({ DATABASE_REPLICA_URLS: withPassword(replica.url) });
    await infra.withSession(
      async (tx) => {
        expect(infra.getDatabaseSession().session).toBe(tx);
        const nested = await infra.withSession(async (inner) => (await inRecovery.execute(inner)).rows[0]?.standby);
        expect(nested).toBe(true);
      },
      { readOnly: true },
    );
    await expect(infra.withSession((tx) => tx.insertInto('notes').values({ body: 'nope' }).execute(), { readOnly: true })).rejects.toThrow(
      /read-only transaction/,
    );
    await expect(infra.dbRead.insertInto('notes').values({ body: 'nope' }).execute()).rejects.toThrow(/dbRead is read-only/);
    // Kysely's own transactions on dbRead run on a replica, read-only.
    const inDbReadTransaction = await infra.dbRead.transaction().execute(async (trx) => ({
      standby: (await inRecovery.execute(trx)).rows[0]?.standby,
      readOnly: (await sql<{ ro: string }>`select current_setting('transaction_read_only') as ro`.execute(trx)).rows[0]?.ro,
    }));
    expect(inDbReadTransaction).toEqual({ standby: true, readOnly: 'on' });
    // A write inside a primary transaction's nested read-only call stays on the primary transaction.
    await infra.withSession(async (tx) => {
      await tx.insertInto('notes').values({ body: 'outer' }).execute();
      const seen = await infra.withSession((inner) => inner.selectFrom('notes').select('id').where('body', '=', 'outer').execute(), {
        readOnly: true,
      });
      expect(seen.length).toBeGreaterThan(0);
    });
  });

  it('goes round robin over the replicas', async () => {
    const url = withPassword(replica.url);
    const infra = await open({ DATABASE_REPLICA_URLS: `${url},${url}` });
    const [first, second] = infra.database.replicaStatus().map((status) => status.replica);
    expect(first).toBe(`127.0.0.1:${replica.port}${new URL(primary.url).pathname}`);
    expect(second).toBe(`${first}#2`);
    for (let index = 0; index < 10; index++) await infra.withSession((tx) => inRecovery.execute(tx), { readOnly: true });
    for (let index = 0; index < 6; index++) await inRecovery.execute(infra.dbRead);
    expect(await readsCount(infra, 'replica', first)).toBe(8);
    expect(await readsCount(infra, 'replica', second)).toBe(8);
  });
});

describe('lag', () => {
  it('skips a replica whose replay is paused once it falls behind DB_REPLICA_MAX_LAG_MS, and takes it back when it catches up', async () => {
    const infra = await open({ DATABASE_REPLICA_URLS: withPassword(replica.url), DB_REPLICA_MAX_LAG_MS: '300' });
    const fallbackWarnings = (): number =>
      captured.records.filter((record) => String(record.msg).startsWith('database: no read replica is healthy')).length;
    const warningsBefore = fallbackWarnings();
    expect(infra.database.replicaStatus()[0]?.state).toBe('healthy');
    await replica.query('select pg_wal_replay_pause()');
    try {
      await infra.withSession((tx) => tx.insertInto('notes').values({ body: 'while paused' }).execute());
      await until(() => infra.database.replicaStatus()[0]?.state === 'lagging', 'the replica is found lagging');
      const status = infra.database.replicaStatus()[0];
      expect(status?.lagMs ?? 0).toBeGreaterThan(300);
      for (let index = 0; index < 5; index++) {
        const row = await infra.withSession(
          async (tx) => ({
            standby: (await inRecovery.execute(tx)).rows[0]?.standby,
            seen: await tx.selectFrom('notes').select('id').where('body', '=', 'while paused').executeTakeFirst(),
          }),
          { readOnly: true },
        );
        expect(row.standby).toBe(false);
        expect(row.seen).toBeDefined();
      }
      expect(await readsCount(infra, 'primary_fallback')).toBe(5);
      // On the primary too, a read-only session is a READ ONLY transaction.
      await expect(
        infra.withSession((tx) => tx.insertInto('notes').values({ body: 'nope' }).execute(), { readOnly: true }),
      ).rejects.toThrow(/read-only transaction/);
      expect(fallbackWarnings() - warningsBefore).toBe(1);
      const health = await infra.health();
      const replicas = health.dependencies.find((dependency) => dependency.name === 'database:replicas');
      expect(health.status).toBe('degraded');
      expect(replicas).toMatchObject({ status: 'degraded', required: false, info: { healthy: 0 } });
      expect(replicas?.detail).toMatch(/no read replica is healthy/);
      const metrics = await infra.metrics.registry.metrics();
      expect(metrics).toMatch(/groundwork_db_replica_up\{replica="127\.0\.0\.1:\d+\/gw_replicas_[^"]+"\} 0/);
      const lag = /groundwork_db_replica_lag_seconds\{replica="[^"]+"\} ([\d.]+)/.exec(metrics);
      expect(Number(lag?.[1])).toBeGreaterThan(0.3);
    } finally {
      await replica.query('select pg_wal_replay_resume()');
    }
    await until(() => infra.database.replicaStatus()[0]?.state === 'healthy', 'the replica takes reads again');
    const back = await infra.withSession(async (tx) => (await inRecovery.execute(tx)).rows[0]?.standby, { readOnly: true });
    expect(back).toBe(true);
    expect((await infra.health()).dependencies.find((dependency) => dependency.name === 'database:replicas')?.status).toBe('ok');
  });
});

describe('lag as an unprivileged role sees it', () => {
  it('counts a running WAL receiver as streaming when the role may not read its status', async () => {
    const url = new URL(replica.url);
    url.username = READER;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    try {
      const { rows } = await sql<{ status: string | null; pid: number | null }>`select status, pid from pg_stat_wal_receiver`.execute(db);
      expect(rows[0]).toEqual({ status: null, pid: expect.any(Number) });
      const reading = await measureLag(pool, undefined, () => Date.now());
      expect(reading).toMatchObject({ inRecovery: true, receiver: 'running' });
      const infra = await open({ DATABASE_REPLICA_URLS: url.toString() });
      expect(infra.database.replicaStatus()[0]?.state).toBe('healthy');
    } finally {
      await db.destroy();
    }
  });
});

describe('a replica that stops answering', () => {
  it('gets one lag query at a time: a measurement that timed out has its connection closed before the next one starts', async () => {
    const proxy = new StallingProxy({ host: '127.0.0.1', port: replica.port });
    const port = await proxy.start();
    try {
      const url = new URL(replica.url);
      url.port = String(port);
      // A measurement's bound is 1 s; one starts 100 ms after the last ended. The session pool may grow to 5.
      const infra = await open({
        DATABASE_REPLICA_URLS: url.toString(),
        DB_POOL_SIZE: '1',
        DB_MAX_OVERFLOW: '4',
        DB_ACQUIRE_TIMEOUT_MS: '5000',
      });
      // The connections to the replica now: the measurement's own, and the one the first read below takes.
      await inRecovery.execute(infra.dbRead);
      const before = proxy.open;
      proxy.stall();
      proxy.resetCount();
      await until(() => infra.database.replicaStatus()[0]?.state === 'down', 'the silent replica is found down');
      expect(infra.database.replicaStatus()[0]?.reason).toMatch(/no answer within 1000 ms/);
      // Four measurement intervals with the replica silent: no measurement starts beside one still waiting.
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      expect(proxy.mostOpen).toBeLessThanOrEqual(before);
      // The stalled measurement's connection was closed, not left waiting: only the session pool's idle one is left, and perhaps the next measurement.
      expect(proxy.open).toBeLessThanOrEqual(before);
      expect(infra.database.replicaStatus()[0]?.state).toBe('down');
      proxy.resume();
      await until(() => infra.database.replicaStatus()[0]?.state === 'healthy', 'the replica answers again and takes reads');
      expect((await inRecovery.execute(infra.dbRead)).rows[0]?.standby).toBe(true);
    } finally {
      await proxy.close();
    }
  }, 30_000);
});

describe('opening replicas', () => {
  it('closes the replicas it opened when another one fails to open', async () => {
    const database = new URL(primary.url).pathname.slice(1);
    const config = loadConfig({
      env: {
        DATABASE_URL: primary.url,
        DATABASE_REPLICA_URLS: `${replica.url}?application_name=gw-replica-partial,${replica.url}`,
      },
      envFile: false,
    });
    const opened: Replica<unknown>[] = [];
    const connections = async (): Promise<number> =>
      Number(
        (
          await replica.query<{ n: string }>(
            `select count(*) as n from pg_stat_activity where datname = '${database}' and application_name = 'gw-replica-partial'`,
          )
        )[0]?.n,
      );
    const failure = openReplicas(config.database, {
      logger: captured.logger,
      metrics: undefined,
      clock: systemClock,
      openReplica: async (options) => {
        if (options.index === 1) {
          // The second fails once the first is open and holds a connection.
          await until(() => opened.length === 1, 'the first replica is open');
          throw new Error('the second replica cannot be opened');
        }
        const first = await Replica.open<unknown>(options);
        await inRecovery.execute(first.db);
        opened.push(first);
        return first;
      },
    });
    await expect(failure).rejects.toThrow('the second replica cannot be opened');
    expect(opened[0]?.stats().total).toBe(0);
    await until(async () => (await connections()) === 0, 'the first replica has no connection left');
    await expect(inRecovery.execute(opened[0]?.db as Kysely<unknown>)).rejects.toThrow();
  });

  it('fails with the open failure when closing a replica it opened fails too', async () => {
    const config = loadConfig({
      env: { DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: `${replica.url},${replica.url},${replica.url}` },
      envFile: false,
    });
    let closes = 0;
    const failure = openReplicas(config.database, {
      logger: captured.logger,
      metrics: undefined,
      clock: systemClock,
      openReplica: async (options) => {
        if (options.index === 2) throw new Error('the third replica cannot be opened');
        // A replica whose close fails (the first) or succeeds (the second): both are closed.
        return {
          close: async () => {
            closes++;
            if (options.index === 0) throw new Error('the first replica cannot be closed');
            return true;
          },
        } as unknown as Replica<unknown>;
      },
    });
    await expect(failure).rejects.toThrow('the third replica cannot be opened');
    expect(closes).toBe(2);
  });
});

describe('a replica stopped mid-run', () => {
  it('fails no read: reads in flight run again elsewhere, later ones go to the primary', async () => {
    const url = withPassword(replica.url);
    const infra = await open({ DATABASE_REPLICA_URLS: url, DB_REPLICA_CHECK_INTERVAL_MS: '200' });
    let stop = false;
    const failures: unknown[] = [];
    const targets = { replica: 0, primary: 0 };
    const reader = async (useDbRead: boolean): Promise<void> => {
      while (!stop) {
        try {
          const standby = useDbRead
            ? (await sql<{ standby: boolean }>`select pg_is_in_recovery() as standby, pg_sleep(0.005)`.execute(infra.dbRead)).rows[0]
                ?.standby
            : await infra.withSession(
                async (tx) => {
                  const { rows } = await sql<{ standby: boolean }>`select pg_is_in_recovery() as standby, pg_sleep(0.01)`.execute(tx);
                  await tx.selectFrom('notes').select('id').limit(1).execute();
                  return rows[0]?.standby;
                },
                { readOnly: true },
              );
          targets[standby === true ? 'replica' : 'primary']++;
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const readers = [reader(false), reader(false), reader(false), reader(true), reader(true)];
    await until(() => targets.replica > 20, 'reads run on the replica');
    await replica.stop('immediate');
    const stoppedAt = targets.primary;
    await until(() => targets.primary > stoppedAt + 20, 'reads run on the primary');
    stop = true;
    await Promise.all(readers);
    expect(failures).toEqual([]);
    expect(infra.database.replicaStatus()[0]?.state).toBe('down');
    const health = await infra.health();
    expect(health.dependencies.find((dependency) => dependency.name === 'database:replicas')).toMatchObject({
      status: 'degraded',
      info: { replicas: [{ state: 'down', lagMs: null }] },
    });
    expect(await readsCount(infra, 'primary_fallback')).toBeGreaterThan(0);
    // Reads were in flight on the replica when it stopped: they ran again, and none failed.
    const retries = await infra.metrics.dbReplicaRetries.get();
    expect(retries.values.reduce((sum, value) => sum + value.value, 0)).toBeGreaterThan(0);
    const metrics = await infra.metrics.registry.metrics();
    expect(metrics).toMatch(/groundwork_db_replica_up\{replica="[^"]+"\} 0/);
    expect(JSON.stringify(health)).not.toContain(CANARY);
    await replica.start();
    await until(() => infra.database.replicaStatus()[0]?.state === 'healthy', 'the restarted replica takes reads again', 30_000);
    expect((await inRecovery.execute(infra.dbRead)).rows[0]?.standby).toBe(true);
  }, 60_000);
});

describe('close', () => {
  it('closes every replica connection and stops measuring', async () => {
    const database = new URL(primary.url).pathname.slice(1);
    const infra = await createInfrastructure<Tables>({
      env: {
        DATABASE_URL: primary.url,
        DATABASE_REPLICA_URLS: `${replica.url}?application_name=gw-replica-close`,
        DB_REPLICA_CHECK_INTERVAL_MS: '50',
        DB_POOL_SIZE: '2',
      },
      envFile: false,
      logger: captured.logger,
    });
    await Promise.all(Array.from({ length: 4 }, () => infra.withSession((tx) => inRecovery.execute(tx), { readOnly: true })));
    const connections = async (): Promise<number> =>
      Number(
        (
          await replica.query<{ n: string }>(
            `select count(*) as n from pg_stat_activity where datname = '${database}' and application_name = 'gw-replica-close'`,
          )
        )[0]?.n,
      );
    expect(await connections()).toBeGreaterThan(0);
    await infra.close();
    await until(async () => (await connections()) === 0, 'the replica connections are closed');
    // Measurements every 50 ms would open a connection again; none comes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await connections()).toBe(0);
  });
});

describe('closing a lag measurement still connecting', () => {
  it('ends it at once instead of waiting for its connect timeout', async () => {
    // A server that accepts the connection and never answers: the measurement waits to connect.
    const proxy = new StallingProxy({ host: '127.0.0.1', port: replica.port });
    const port = await proxy.start();
    proxy.stall();
    try {
      const url = new URL(replica.url);
      url.port = String(port);
      const config = loadConfig({ env: { DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: url.toString() }, envFile: false }).database;
      const probe = await LagProbe.open({
        config: { ...config, url: new Secret('DATABASE_REPLICA_URLS', url.toString()) },
        timeoutMs: 20_000,
        label: 'stalled',
        logger: captured.logger,
      });
      const measuring = probe.measure(undefined, Date.now);
      measuring.catch(() => undefined);
      await until(() => proxy.open === 1, 'the measurement is connecting');
      const started = Date.now();
      await probe.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect(measuring).rejects.toThrow();
    } finally {
      await proxy.close();
    }
  });
});

describe('closing replicas while a measurement waits on a silent one', () => {
  it('ends the measurement with its probe instead of waiting for its time bound', async () => {
    const proxy = new StallingProxy({ host: '127.0.0.1', port: replica.port });
    const port = await proxy.start();
    try {
      const url = new URL(replica.url);
      url.port = String(port);
      // On a clock nobody advances, the measurement's time bound never passes: only closing its probe ends it.
      const clock = new ManualClock();
      const infra = await createInfrastructure<Tables>({
        env: { DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: url.toString(), DB_REPLICA_CHECK_INTERVAL_MS: '1000' },
        envFile: false,
        logger: captured.logger,
        clock,
      });
      const checkedAt = infra.database.replicaStatus()[0]?.checkedAt;
      proxy.stall();
      clock.advance(1000);
      await until(() => proxy.heldAnswers > 0, 'the next measurement waits on the silent replica');
      const started = Date.now();
      await infra.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(infra.database.replicaStatus()[0]?.checkedAt).toBe(checkedAt);
    } finally {
      await proxy.close();
    }
  });
});

describe('the measurement timer', () => {
  it('runs on the injected clock, every DB_REPLICA_CHECK_INTERVAL_MS, and is gone after close()', async () => {
    const clock = new ManualClock();
    const infra = await createInfrastructure<Tables>({
      env: { DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: replica.url, DB_REPLICA_CHECK_INTERVAL_MS: '1000' },
      envFile: false,
      logger: captured.logger,
      clock,
    });
    const checkedAt = (): string | null | undefined => infra.database.replicaStatus()[0]?.checkedAt;
    expect(checkedAt()).toBe(new Date(clock.now()).toISOString());
    clock.advance(999);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(checkedAt()).toBe(new Date(clock.now() - 999).toISOString());
    clock.advance(1);
    await until(() => checkedAt() === new Date(clock.now()).toISOString(), 'the next measurement ran');
    await infra.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('secrets', () => {
  it('shows the replica password in no health report, metric or log line', async () => {
    const infra = await open({ DATABASE_REPLICA_URLS: withPassword(replica.url) });
    const health = JSON.stringify(await infra.health());
    const metrics = await infra.metrics.registry.metrics();
    expect(health).toContain(`127.0.0.1:${replica.port}`);
    expect(health).not.toContain(CANARY);
    expect(metrics).not.toContain(CANARY);
    expect(captured.text()).toContain('replica');
    expect(captured.text()).not.toContain(CANARY);
    expect(JSON.stringify(infra.config)).not.toContain(CANARY);
  });
});
