import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresUrl, uniqueName } from '../../test/services.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import { createLogger } from '../observability/logger.js';
import { ConnectionLostError } from './connection-lost-error.js';
import { createDatabase } from './create-database.js';
import { DatabaseClosedError } from './database-closed-error.js';
import { CONTRACT_MIGRATIONS, databaseConfig, openContractDatabase } from './database-contract.test-helpers.js';
import { PoolTimeoutError } from './pool-timeout-error.js';
import { TcpProxy } from './tcp-proxy.test-helpers.js';
import { TransactionAbortedError } from './transaction-aborted-error.js';

const databaseName = uniqueName('gw_faults');
let admin: pg.Client;

function urlFor(applicationName: string, password?: string): string {
  const url = new URL(postgresUrl());
  url.pathname = `/${databaseName}`;
  url.searchParams.set('application_name', applicationName);
  if (password !== undefined) url.password = password;
  return url.toString();
}

async function backends(applicationName: string): Promise<number[]> {
  const result = await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1 and datname = $2', [
    applicationName,
    databaseName,
  ]);
  return result.rows.map((row) => row.pid);
}

/** How long the server may take to show a backend in pg_stat_activity, or to remove one, on a loaded machine. */
const PG_STAT_ACTIVITY_WAIT = { timeout: 10_000 };

async function terminate(pids: number[]): Promise<void> {
  await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
  // The server removes a terminated backend asynchronously; wait until it is gone.
  await vi.waitFor(async () => {
    const left = await admin.query('select count(*)::int as n from pg_stat_activity where pid = any($1::int[])', [pids]);
    expect(left.rows[0].n).toBe(0);
  }, PG_STAT_ACTIVITY_WAIT);
}

/**
 * Runs `count` sessions that each hold their connection until `release()`: `entered` settles once
 * every one of them has its connection (a session's function runs only after its checkout), or
 * rejects as soon as one of them fails to get one.
 */
function holdSessions(
  database: Awaited<ReturnType<typeof openContractDatabase>>,
  count: number,
): { sessions: Promise<void>[]; entered: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let waiting = count;
  let arrived: () => void = () => undefined;
  const allIn = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const sessions = Array.from({ length: count }, () =>
    database.withSession(async () => {
      if (--waiting === 0) arrived();
      await gate;
    }),
  );
  // A session that fails before the others are in fails the wait, rather than leaving it hanging.
  const entered = Promise.race([allIn, ...sessions.map((session) => session.then(() => allIn))]);
  entered.catch(() => undefined);
  return { sessions, entered, release };
}

/** Whether `error` says a connection was not opened within the pool's acquire timeout. */
function openedTooSlowly(error: unknown): boolean {
  return error instanceof PoolTimeoutError || (error instanceof ConnectionLostError && /due to connection timeout/.test(error.message));
}

/**
 * Opens `count` connections in the pool and leaves them idle, opening them again while one takes
 * longer than the pool's acquire timeout (a backend slow to start on a loaded machine): a test of
 * a short acquire timeout then finds them open rather than racing their opening against it.
 */
async function openIdleConnections(database: Awaited<ReturnType<typeof openContractDatabase>>, count: number): Promise<void> {
  for (;;) {
    const held = holdSessions(database, count);
    const opened = await held.entered.then(
      () => true,
      (error: unknown) => {
        if (openedTooSlowly(error)) return false;
        throw error;
      },
    );
    held.release();
    await Promise.allSettled(held.sessions);
    if (opened) return;
  }
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`create database "${databaseName}"`);
  const database = await openContractDatabase(urlFor('gw_setup'));
  await database.migrate('up');
  await database.close();
});

afterAll(async () => {
  await admin.query(`drop database if exists "${databaseName}" with (force)`);
  await admin.end();
});

describe('PostgreSQL faults', () => {
  it('fails a transaction whose backend is terminated, lives on, and runs the next one', async () => {
    const application = uniqueName('gw_kill');
    const database = await openContractDatabase(urlFor(application));
    try {
      const failed = database.withSession(async (tx) => {
        await tx.insertInto('note').values({ id: 'killed', title: 'x', done: false, due_at: null, meta: null, score: null }).execute();
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
        // The backend dies while the client is checked out and idle: pg emits 'error' on it.
        await terminate(rows.map((row) => row.pid));
        await tx.selectFrom('note').select('id').execute();
      });
      failed.catch(() => undefined); // handled below; keeps an early rejection from counting as unhandled
      await expect(failed).rejects.toBeInstanceOf(ConnectionLostError);
      await expect(failed).rejects.toThrow(/connection to postgres:\/\/.* was lost/);
      expect(await database.db.selectFrom('note').select('id').where('id', '=', 'killed').execute()).toEqual([]);
      await database.withSession((tx) =>
        tx.insertInto('note').values({ id: 'after-kill', title: 'y', done: false, due_at: null, meta: null, score: null }).execute(),
      );
      expect(await database.db.selectFrom('note').select('id').where('id', '=', 'after-kill').execute()).toEqual([{ id: 'after-kill' }]);
    } finally {
      await database.close();
    }
  });

  it('fails a statement running when its backend is terminated', async () => {
    const application = uniqueName('gw_kill_running');
    const database = await openContractDatabase(urlFor(application));
    try {
      const failed = database.withSession(async (tx) => {
        await sql`select pg_sleep(5)`.execute(tx);
      });
      failed.catch(() => undefined); // it rejects while the test is still terminating the backend
      await vi.waitFor(async () => expect(await backends(application)).toHaveLength(1), PG_STAT_ACTIVITY_WAIT);
      await terminate(await backends(application));
      await expect(failed).rejects.toBeInstanceOf(ConnectionLostError);
      expect((await database.validateConnection()).ok).toBe(true);
    } finally {
      await database.close();
    }
  });

  it('keeps no replacement for a connection released while a statement left in flight on it was lost', async () => {
    const application = uniqueName('gw_kill_released');
    const database = await openContractDatabase(urlFor(application), { poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 1000 });
    try {
      // A reused connection: a lost first statement on it would be sent again on a replacement.
      await sql`select 1`.execute(database.db);
      let pending: Promise<unknown> | undefined;
      // Its outcome is taken at once, so that its failure never counts as unhandled meanwhile.
      const session = database.withSession(async (tx) => {
        pending = sql`select pg_sleep(5)`.execute(tx);
        // Marked handled: it may fail before the session does; its error is checked below.
        pending.catch(() => undefined);
        // Sent, not awaited: COMMIT queues behind it.
        for (let turn = 0; turn < 50; turn++) await Promise.resolve();
      });
      const outcome = session.then(
        () => undefined,
        (error: unknown) => error,
      );
      await vi.waitFor(async () => expect(await backends(application)).toHaveLength(1), PG_STAT_ACTIVITY_WAIT);
      await terminate(await backends(application));
      expect(await outcome).toBeInstanceOf(ConnectionLostError);
      await expect(pending).rejects.toBeInstanceOf(ConnectionLostError);
      // Every checkout went back: the one connection is free for the next session.
      await vi.waitFor(() => expect(database.poolStats()).toMatchObject({ waiting: 0 }));
      expect(await database.withSession(async (tx) => (await sql<{ one: number }>`select 1 as one`.execute(tx)).rows)).toEqual([
        { one: 1 },
      ]);
      expect(database.poolStats().idle).toBe(database.poolStats().total);
    } finally {
      await database.close();
    }
  });

  it('replaces idle connections that were all terminated: the next queries succeed', async () => {
    const application = uniqueName('gw_idle');
    const database = await openContractDatabase(urlFor(application), { poolSize: 3, maxOverflow: 0 });
    try {
      await Promise.all([1, 2, 3].map(() => database.withSession((tx) => sql`select pg_sleep(0.05)`.execute(tx))));
      expect(database.poolStats()).toMatchObject({ total: 3, idle: 3 });
      await terminate(await backends(application));
      // The pool may or may not have read the server's goodbye on its idle clients yet: a builder
      // read is sent again on a replacement when its client turns out dead, so it succeeds either
      // way. (Raw SQL could not be: the driver cannot tell that it only reads.)
      expect(await database.db.selectFrom('note').select('id').where('id', 'like', 'idle-%').execute()).toEqual([]);
      await Promise.all(
        [1, 2, 3].map((index) =>
          database.withSession((tx) =>
            tx
              .insertInto('note')
              .values({ id: `idle-${index}`, title: 'z', done: false, due_at: null, meta: null, score: null })
              .execute(),
          ),
        ),
      );
      expect((await database.validateConnection()).ok).toBe(true);
    } finally {
      await database.close();
    }
  });

  it('fails with ConnectionLostError when a dead connection cannot be replaced because the server refuses connections', async () => {
    const server = new URL(postgresUrl());
    const proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    await proxy.accept();
    const url = new URL(urlFor(uniqueName('gw_refused')));
    url.host = `127.0.0.1:${proxy.port}`;
    const database = await openContractDatabase(url.toString(), { poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 1000 });
    try {
      // The pooled client is reused: a second checkout would replace it if it turned out dead.
      await database.withSession((tx) => sql`select 1`.execute(tx));
      await database.withSession((tx) => sql`select 1`.execute(tx));
      // The server goes away: the idle client looks alive until it is used, and reopening is refused.
      await proxy.refuse();
      proxy.cutOnNextWrite();
      const error = await database.withSession((tx) => sql`select 1`.execute(tx)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as ConnectionLostError).code).toBe('db_connection_lost');
      // Once the server is back, the same database carries on.
      await proxy.accept();
      await vi.waitFor(
        async () => expect(await database.withSession((tx) => sql<{ one: number }>`select 1 as one`.execute(tx))).toBeDefined(),
        {
          timeout: 5000,
        },
      );
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  /** A database behind a proxy with one connection, reused once: a lost first statement may then be sent on a replacement. */
  async function behindProxy(
    application: string,
    acquireTimeoutMs = 1000,
  ): Promise<{ proxy: TcpProxy; database: Awaited<ReturnType<typeof openContractDatabase>> }> {
    const server = new URL(postgresUrl());
    const proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    await proxy.accept();
    const url = new URL(urlFor(uniqueName(application)));
    url.host = `127.0.0.1:${proxy.port}`;
    const database = await openContractDatabase(url.toString(), { poolSize: 1, maxOverflow: 0, acquireTimeoutMs });
    return { proxy, database };
  }

  it('never sends again a statement outside a transaction whose answer was lost: it ran once, and the caller learns the outcome is unknown', async () => {
    const { proxy, database } = await behindProxy('gw_lost_answer');
    try {
      await database.db.insertInto('note').values({ id: 'counted', title: 'c', done: false, due_at: null, meta: null, score: 0 }).execute();
      // The server runs and commits the update; the connection breaks before its answer arrives.
      proxy.cutOnNextAnswer();
      const error = await sql`update note set score = score + 1 where id = ${'counted'}`
        .execute(database.db)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as ConnectionLostError).outcomeUnknown).toBe(true);
      expect((error as ConnectionLostError).retryable).toBe(false);
      expect((error as Error).message).toMatch(
        /outside a transaction, or a COMMIT, was in flight: the server may or may not have applied it/,
      );
      expect((error as Error).message).not.toMatch(/rolled back/);
      const { rows } = await sql<{ score: number }>`select score from note where id = ${'counted'}`.execute(database.db);
      expect(rows).toEqual([{ score: 1 }]);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it("sends a query builder select again on a new connection when a reused connection's answer was lost", async () => {
    const { proxy, database } = await behindProxy('gw_lost_select');
    try {
      await database.db.insertInto('note').values({ id: 'read', title: 'r', done: false, due_at: null, meta: null, score: 7 }).execute();
      // The pooled connection dies silently (an idle timeout on the way): the select's answer never arrives.
      proxy.cutOnNextAnswer();
      const rows = await database.db.selectFrom('note').select('score').where('id', '=', 'read').execute();
      expect(rows).toEqual([{ score: 7 }]);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it('never sends again a select over a data-modifying with whose answer was lost: it wrote once, and the outcome is unknown', async () => {
    const { proxy, database } = await behindProxy('gw_lost_writing_with');
    try {
      await database.db.insertInto('note').values({ id: 'claimed', title: 'c', done: false, due_at: null, meta: null, score: 0 }).execute();
      proxy.cutOnNextAnswer();
      const error = await database.db
        .with('bumped', (db) => db.updateTable('note').set({ score: sql`score + 1` }).where('id', '=', 'claimed').returning('score'))
        .selectFrom('bumped')
        .select('score')
        .execute()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as ConnectionLostError).outcomeUnknown).toBe(true);
      const { rows } = await sql<{ score: number }>`select score from note where id = ${'claimed'}`.execute(database.db);
      expect(rows).toEqual([{ score: 1 }]);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it('fails a select whose answer was lost where it cannot be sent again as a read to retry, not as an unknown outcome', async () => {
    const { proxy, database } = await behindProxy('gw_lost_held_select');
    try {
      await database.db.insertInto('note').values({ id: 'held', title: 'h', done: false, due_at: null, meta: null, score: 1 }).execute();
      const error = await database.db
        .connection()
        .execute(async (db) => {
          await db.selectFrom('note').select('id').execute();
          // Not the checkout's first statement: it is not sent again, and reading it again elsewhere is safe.
          proxy.cutOnNextAnswer();
          await db.selectFrom('note').select('id').execute();
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as ConnectionLostError).outcomeUnknown).toBe(false);
      expect((error as ConnectionLostError).retryable).toBe(true);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it('fails a transaction whose COMMIT answer was lost with an unknown outcome, not to be run again blindly', async () => {
    const { proxy, database } = await behindProxy('gw_lost_commit');
    try {
      await database.db
        .insertInto('note')
        .values({ id: 'committed', title: 'c', done: false, due_at: null, meta: null, score: 0 })
        .execute();
      const error = await database
        .withSession(async (tx) => {
          await sql`update note set score = score + 1 where id = ${'committed'}`.execute(tx);
          // The next answer is COMMIT's: the server commits, the client never learns.
          proxy.cutOnNextAnswer();
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as ConnectionLostError).outcomeUnknown).toBe(true);
      expect((error as ConnectionLostError).retryable).toBe(false);
      const { rows } = await sql<{ score: number }>`select score from note where id = ${'committed'}`.execute(database.db);
      expect(rows).toEqual([{ score: 1 }]);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it("sends a transaction's first statement again on a new connection when the answer to it and its BEGIN was lost: it ran once", async () => {
    const { proxy, database } = await behindProxy('gw_lost_begin');
    try {
      await database.db.insertInto('note').values({ id: 'begun', title: 'b', done: false, due_at: null, meta: null, score: 0 }).execute();
      // The server runs BEGIN and the update; the connection breaks before COMMIT, so the server rolls them back.
      proxy.cutOnNextAnswer();
      await database.withSession((tx) => sql`update note set score = score + 1 where id = ${'begun'}`.execute(tx));
      const { rows } = await sql<{ score: number }>`select score from note where id = ${'begun'}`.execute(database.db);
      expect(rows).toEqual([{ score: 1 }]);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it('fails a transaction whose first statement, sent again after its connection was lost, hit a caught unique violation as an aborted transaction, not a lost one', async () => {
    const { proxy, database } = await behindProxy('gw_lost_then_violation');
    try {
      await database.db.insertInto('note').values({ id: 'taken', title: 't', done: false, due_at: null, meta: null, score: 0 }).execute();
      // The pooled connection dies silently: the insert is sent again on a new connection and violates the key there.
      proxy.cutOnNextAnswer();
      let violation: unknown;
      const error = await database
        .withSession(async (tx) => {
          violation = await tx
            .insertInto('note')
            .values({ id: 'taken', title: 't', done: false, due_at: null, meta: null, score: 0 })
            .execute()
            .catch((caught: unknown) => caught);
        })
        .catch((caught: unknown) => caught);
      expect(violation).not.toBeInstanceOf(ConnectionLostError);
      expect((violation as { code?: string }).code).toBe('23505');
      expect(error).toBeInstanceOf(TransactionAbortedError);
      expect((error as TransactionAbortedError).retryable).toBe(false);
      expect((error as Error).message).toMatch(/a statement in it failed, so the database aborted it/);
      expect((error as Error).message).not.toMatch(/connection was lost/);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it('commits nothing when a statement started beside the first one was lost with the dead connection the first one left', async () => {
    const { proxy, database } = await behindProxy('gw_lost_pipelined');
    const note = (id: string) => ({ id, title: id, done: false, due_at: null, meta: null, score: 0 });
    const kept = async () =>
      (await database.db.selectFrom('note').select('id').where('id', 'like', 'pipelined-%').orderBy('id').execute()).map((row) => row.id);
    try {
      await sql`select 1`.execute(database.db);
      // The pooled connection dies silently: the server runs BEGIN and both inserts, then rolls them back.
      proxy.cutOnNextAnswer();
      let outcomes: PromiseSettledResult<unknown>[] = [];
      const error = await database
        .withSession(async (tx) => {
          // Started together and caught: the first carries BEGIN, so it is sent again on a new connection; the second cannot be.
          outcomes = await Promise.allSettled([
            tx.insertInto('note').values(note('pipelined-a')).execute(),
            tx.insertInto('note').values(note('pipelined-b')).execute(),
          ]);
        })
        .catch((caught: unknown) => caught);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected']);
      const lost = (outcomes[1] as PromiseRejectedResult).reason;
      expect(lost).toBeInstanceOf(ConnectionLostError);
      expect((lost as Error).message).toMatch(/rolled back by the server\. Run the unit of work again/);
      // The first insert ran again in a transaction of its own on the new connection: it must not commit without the second.
      expect(error).toBeInstanceOf(TransactionAbortedError);
      expect((error as Error).message).toMatch(
        /connection was lost under one of its statements.*Nothing it wrote was kept\. Run the unit of work again/,
      );
      expect((error as TransactionAbortedError).retryable).toBe(true);
      expect(await kept()).toEqual([]);
      // Run again, as the errors advise: each row is written once.
      await database.withSession(async (tx) => {
        await Promise.all([
          tx.insertInto('note').values(note('pipelined-a')).execute(),
          tx.insertInto('note').values(note('pipelined-b')).execute(),
        ]);
      });
      expect(await kept()).toEqual(['pipelined-a', 'pipelined-b']);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it('commits nothing when a statement was refused while the connection lost under the first one was being replaced', async () => {
    // Opening the replacement waits for the test: a loaded machine must not time it out meanwhile.
    const { proxy, database } = await behindProxy('gw_lost_replacing', 10_000);
    const note = (id: string) => ({ id, title: id, done: false, due_at: null, meta: null, score: 0 });
    const kept = async () =>
      (await database.db.selectFrom('note').select('id').where('id', 'like', 'replacing-%').orderBy('id').execute()).map((row) => row.id);
    try {
      await sql`select 1`.execute(database.db);
      // The pooled connection dies silently, and opening its replacement waits until the proxy lets it through.
      proxy.cutOnNextAnswer();
      proxy.hold();
      let refused: unknown;
      const error = await database
        .withSession(async (tx) => {
          const first = tx.insertInto('note').values(note('replacing-a')).execute();
          await vi.waitFor(() => expect(proxy.held).toBe(1), { interval: 5 });
          // The transaction's connection is gone: the second insert fails at once, and the session catches it.
          refused = await tx
            .insertInto('note')
            .values(note('replacing-b'))
            .execute()
            .catch((caught: unknown) => caught);
          proxy.release();
          // The first insert carried BEGIN: it runs again, in a transaction of its own, on the new connection.
          await first;
        })
        .catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(ConnectionLostError);
      expect(error).toBeInstanceOf(TransactionAbortedError);
      expect(await kept()).toEqual([]);
    } finally {
      proxy.release();
      await database.close();
      await proxy.close();
    }
  });

  it('says a server refusing connections could not be reached, not that a connection was lost mid-transaction', async () => {
    const server = new URL(postgresUrl());
    const proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    await proxy.refuse();
    const url = new URL(urlFor(uniqueName('gw_down')));
    url.host = `127.0.0.1:${proxy.port}`;
    const database = await openContractDatabase(url.toString(), { poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 1000 }).catch(
      (caught: unknown) => caught,
    );
    try {
      const error =
        database instanceof Error
          ? database
          : await (database as Awaited<ReturnType<typeof openContractDatabase>>)
              .withSession((tx) => sql`select 1`.execute(tx))
              .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as Error).message).toMatch(/^Could not connect to .*not accepting connections/);
      expect((error as Error).message).not.toMatch(/was lost|rolled back/);
    } finally {
      if (!(database instanceof Error)) await (database as Awaited<ReturnType<typeof openContractDatabase>>).close();
      await proxy.close();
    }
  });

  it('times a waiter out with a clear error naming the pool state when the pool is exhausted', async () => {
    const application = uniqueName('gw_exhaust');
    const database = await openContractDatabase(urlFor(application), { poolSize: 1, maxOverflow: 1, acquireTimeoutMs: 200 });
    let release: () => void = () => undefined;
    try {
      // Opened first: the 200 ms this pool waits for a connection also bounds opening one.
      await openIdleConnections(database, 2);
      const holders = holdSessions(database, 2);
      release = holders.release;
      await holders.entered;
      expect(database.poolStats()).toMatchObject({ total: 2, idle: 0 });
      const started = performance.now();
      const error = await database.withSession(async () => 'never').catch((caught: unknown) => caught);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      expect(error).toBeInstanceOf(PoolTimeoutError);
      expect((error as PoolTimeoutError).pool).toMatchObject({ total: 2, idle: 0, max: 2 });
      expect((error as Error).message).toMatch(/within 200 ms \(pool: 2 open of 2 max, 0 idle, \d+ waiting\)/);
      release();
      await Promise.all(holders.sessions);
      expect(await database.withSession(async () => 'after')).toBe('after');
    } finally {
      release();
      await database.close();
    }
  });

  it('opens overflow connections under load and closes them when idle', async () => {
    const application = uniqueName('gw_overflow');
    const database = await openContractDatabase(urlFor(application), { poolSize: 1, maxOverflow: 2, idleTimeoutMs: 100 });
    // Held until all three have their connections: a session that ended first would have its
    // overflow connection closed after 100 ms idle while a slower one was still connecting.
    const held = holdSessions(database, 3);
    try {
      await held.entered;
      expect(database.poolStats()).toMatchObject({ total: 3, idle: 0, max: 3 });
      held.release();
      await Promise.all(held.sessions);
      await vi.waitFor(() => expect(database.poolStats().total).toBe(1), { timeout: 2000 });
    } finally {
      held.release();
      await database.close();
    }
  });

  it('closes every connection: no backend and no pooled client is left', async () => {
    const application = uniqueName('gw_close');
    const database = await openContractDatabase(urlFor(application), { poolSize: 3 });
    await Promise.all([1, 2, 3].map(() => database.withSession((tx) => sql`select pg_sleep(0.02)`.execute(tx))));
    expect(await backends(application)).toHaveLength(3);
    await database.close();
    await database.close();
    expect(database.poolStats()).toMatchObject({ total: 0, idle: 0, waiting: 0 });
    await vi.waitFor(async () => expect(await backends(application)).toEqual([]), PG_STAT_ACTIVITY_WAIT);
  });

  it('closes after the close timeout even when a transaction never finishes, failing it', async () => {
    const application = uniqueName('gw_close_stuck');
    const { logger, records } = captureLogger('info');
    const database = await openContractDatabase(urlFor(application), { closeTimeoutMs: 100 }, { logger });
    let release: () => void = () => undefined;
    const never = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stuck = database.withSession(async (tx) => {
      await sql`select 1`.execute(tx);
      await never;
      await sql`select 2`.execute(tx);
    });
    stuck.catch(() => undefined); // it rejects once it goes on after close()
    try {
      await vi.waitFor(async () => expect(await backends(application)).toHaveLength(1), PG_STAT_ACTIVITY_WAIT);
      const started = performance.now();
      // The transaction is still waiting: close() gives up on it after closeTimeoutMs, and says so.
      await database.close();
      expect(performance.now() - started).toBeLessThan(5000);
      expect(records).toContainEqual(
        expect.objectContaining({ msg: 'database: closing with transactions still running', running: 1, timeoutMs: 100 }),
      );
    } finally {
      release();
    }
    await expect(stuck).rejects.toThrow();
    await vi.waitFor(async () => expect(await backends(application)).toEqual([]), PG_STAT_ACTIVITY_WAIT);
  });

  it('fails a point read waiting for a connection with DatabaseClosedError as soon as the database closes, not at the acquire timeout', async () => {
    const application = uniqueName('gw_close_waiting');
    const database = await openContractDatabase(urlFor(application), {
      poolSize: 1,
      maxOverflow: 0,
      acquireTimeoutMs: 5000,
      closeTimeoutMs: 100,
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      // The driver is initialised: the point read takes the pool's one-step path.
      await sql`select 1`.execute(database.db);
      const holder = database.withSession(() => gate);
      await vi.waitFor(() => expect(database.poolStats()).toMatchObject({ total: 1, idle: 0 }));
      const waiting = database.db.selectFrom('note').select('id').execute();
      waiting.catch(() => undefined); // it rejects while close() runs
      await vi.waitFor(() => expect(database.poolStats().waiting).toBe(1));
      const started = performance.now();
      await database.close();
      await expect(waiting).rejects.toBeInstanceOf(DatabaseClosedError);
      expect(performance.now() - started).toBeLessThan(2000);
      release();
      await holder;
    } finally {
      release();
      await database.close();
    }
  });

  it('never shows the password in errors or logs', async () => {
    const canary = 'Canary-Pa55word-7f3e';
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const logger = createLogger({ level: 'trace', format: 'json' }, { destination });
    const url = new URL(postgresUrl());
    url.password = canary;
    url.port = '1';
    const unreachable = await createDatabase(databaseConfig(url.toString(), { acquireTimeoutMs: 500 }), {
      logger,
      migrations: CONTRACT_MIGRATIONS,
    });
    const check = await unreachable.validateConnection();
    expect(check.ok).toBe(false);
    const error = await unreachable.withSession(async () => 1).catch((caught: unknown) => caught);
    const health = await unreachable.healthCheck.check(new AbortController().signal, {});
    await unreachable.close();

    const reachable = await createDatabase(databaseConfig(urlFor(uniqueName('gw_canary'), canary)), { logger });
    expect((await reachable.validateConnection()).ok).toBe(true);
    await reachable.close();

    const seen = [JSON.stringify(check), String(error), (error as Error).stack ?? '', JSON.stringify(health), lines.join('\n')].join('\n');
    expect(seen).not.toContain(canary);
    expect(health.status).toBe('down');
    expect(health.detail).toContain(':***@');
  });

  it('fails clearly when sslmode=require meets a server without TLS', async () => {
    const url = new URL(urlFor(uniqueName('gw_tls')));
    url.searchParams.set('sslmode', 'require');
    const database = await createDatabase(databaseConfig(url.toString()), { logger: createLogger({ level: 'silent', format: 'json' }) });
    try {
      // The test server has ssl=off: the client must insist on TLS and say so, not fall back to plain text.
      const check = await database.validateConnection();
      expect(check.ok).toBe(false);
      expect(check.error).toMatch(/SSL|TLS/i);
    } finally {
      await database.close();
    }
  });
});
