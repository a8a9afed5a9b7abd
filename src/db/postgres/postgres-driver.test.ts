import {
  CompiledQuery,
  type DatabaseConnection,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { postgresUrl } from '../../../test/services.js';
import { systemClock } from '../../internal/clock.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import { silentLogger } from '../../observability/logger.js';
import { ConnectionLostError } from '../connection-lost-error.js';
import { DatabaseClosedError } from '../database-closed-error.js';
import { PoolTimeoutError } from '../pool-timeout-error.js';
import { TransactionAbortedError } from '../transaction-aborted-error.js';
import type { PgCallback, PgPool, PgPoolClient, PgResult } from './pg-client.js';
import { PostgresDriver, type PostgresDriverConfig } from './postgres-driver.js';

function driverConfig(overrides: Partial<PostgresDriverConfig> = {}): PostgresDriverConfig {
  return {
    acquireTimeoutMs: 1000,
    displayUrl: 'postgres://db',
    clock: systemClock,
    maxConnections: 1,
    logger: silentLogger(),
    ...overrides,
  };
}

/** A pooled client that answers BEGIN once and the statement through `answer`, recording how it is released. */
/** Compiles query builder statements as Groundwork's PostgreSQL dialect does, with no connection. */
const builder = new Kysely<{ note: { id: string; score: number } }>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

function fakeClient(answer: (callback: PgCallback) => void): PgPoolClient & { released: unknown[] } {
  const released: unknown[] = [];
  return {
    released,
    query(text: unknown, _parameters?: unknown, callback?: PgCallback): void {
      const done = callback as PgCallback;
      if (text === 'begin') queueMicrotask(() => done(null, { command: 'BEGIN', rowCount: null, rows: [] }));
      else queueMicrotask(() => answer(done));
    },
    release(destroy?: Error | boolean) {
      released.push(destroy);
    },
    on: () => undefined,
  } as unknown as PgPoolClient & { released: unknown[] };
}

/** A pooled client that answers each statement through `answer` by its text, recording the texts it was sent. */
function scriptedClient(answer: (text: string) => Error | PgResult): PgPoolClient & { sent: string[]; released: unknown[] } {
  const sent: string[] = [];
  const released: unknown[] = [];
  return {
    sent,
    released,
    query(query: unknown, _parameters?: unknown, callback?: PgCallback): void {
      const text = typeof query === 'string' ? query : (query as { text: string }).text;
      sent.push(text);
      const outcome = answer(text);
      queueMicrotask(() => (outcome instanceof Error ? (callback as PgCallback)(outcome) : (callback as PgCallback)(null, outcome)));
    },
    release(destroy?: Error | boolean) {
      released.push(destroy);
    },
    on: () => undefined,
  } as unknown as PgPoolClient & { sent: string[]; released: unknown[] };
}

/** A pool that hands out `clients` in turn, the last one for every checkout after them. */
function fakePool(...clients: PgPoolClient[]): PgPool {
  let next = 0;
  return {
    connect: (callback: (error: Error | null | undefined, client: PgPoolClient) => void) =>
      callback(null, clients[Math.min(next++, clients.length - 1)] as PgPoolClient),
    on: () => undefined,
    end: async () => undefined,
    totalCount: 1,
    idleCount: 0,
    waitingCount: 0,
  } as unknown as PgPool;
}

/** A pool that holds each checkout's callback until the test answers it. */
function holdingPool(): PgPool & { callbacks: ((error: Error | null | undefined, client?: PgPoolClient) => void)[] } {
  const callbacks: ((error: Error | null | undefined, client?: PgPoolClient) => void)[] = [];
  return {
    callbacks,
    connect: (callback: (error: Error | null | undefined, client?: PgPoolClient) => void) => {
      callbacks.push(callback);
    },
    on: () => undefined,
    end: async () => undefined,
    totalCount: 1,
    idleCount: 0,
    get waitingCount() {
      return callbacks.length;
    },
  } as unknown as PgPool & { callbacks: ((error: Error | null | undefined, client?: PgPoolClient) => void)[] };
}

/**
 * Checks out a connection, opening it again while opening it takes longer than the pool's connect
 * timeout (a backend slow to start on a loaded machine): for a test of a short acquire timeout
 * whose connection must be open before that timeout is what it tests.
 */
async function checkOut(driver: PostgresDriver): Promise<DatabaseConnection> {
  for (;;) {
    try {
      return await driver.acquireConnection();
    } catch (error) {
      if (!(error instanceof ConnectionLostError && /due to connection timeout/.test(error.message))) throw error;
    }
  }
}

describe('PostgresDriver', () => {
  const pools: pg.Pool[] = [];

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
  });

  it("answers a transaction's first statement once even when pg calls its callback twice", async () => {
    const result: PgResult = { command: 'SELECT', rowCount: 1, rows: [{ one: 1 }] };
    // As pg may in pipeline mode: the result, then an error for the same statement.
    const client = fakeClient((callback) => {
      callback(null, result);
      callback(new Error('Connection terminated unexpectedly'));
    });
    const driver = new PostgresDriver(fakePool(client), driverConfig());
    const connection = await driver.acquireConnection();
    await driver.beginTransaction(connection, {});
    await withoutUnhandledRejections(async () => {
      expect((await connection.executeQuery(CompiledQuery.raw('select 1 as one'))).rows).toEqual([{ one: 1 }]);
      await new Promise((resolve) => setImmediate(resolve));
      await driver.releaseConnection(connection);
      // The late error was not taken for a lost connection: the client goes back to the pool, not destroyed.
      expect(client.released).toEqual([undefined]);
    });
  });

  it('answers a statement outside a transaction once when pg calls back with its error, then with a lost connection', async () => {
    // As pg may in pipeline mode: a value fails to serialise, then the connection dies under the queue.
    const client = fakeClient((callback) => {
      callback(new Error('bad value'));
      callback(new Error('Connection terminated unexpectedly'));
    });
    const driver = new PostgresDriver(fakePool(client), driverConfig());
    const connection = await driver.acquireConnection();
    await withoutUnhandledRejections(async () => {
      await expect(connection.executeQuery(CompiledQuery.raw('select $1::int as one', [1]))).rejects.toThrow('bad value');
      await new Promise((resolve) => setImmediate(resolve));
      await driver.releaseConnection(connection);
      // The second call was not taken for the statement's outcome: the client is not counted broken.
      expect(client.released).toEqual([undefined]);
    });
  });

  it("sends a reused client's first statement again on another client when pg refuses to write it", async () => {
    const result: PgResult = { command: 'SELECT', rowCount: 1, rows: [{ one: 1 }] };
    const dead = fakeClient((callback) => callback(new Error('Client has encountered a connection error and is not queryable')));
    const alive = fakeClient((callback) => callback(null, result));
    const driver = new PostgresDriver(fakePool(dead, dead, alive), driverConfig());
    // The first checkout opened the client; the second reuses it.
    await driver.releaseConnection(await driver.acquireConnection());
    const connection = await driver.acquireConnection();
    expect((await connection.executeQuery(CompiledQuery.raw('update note set score = 1'))).rows).toEqual([{ one: 1 }]);
    await driver.releaseConnection(connection);
    expect(dead.released).toEqual([undefined, expect.any(Error)]);
    expect(alive.released).toEqual([undefined]);
  });

  it("ignores a late second answer to a statement's first attempt once it was sent again, the second attempt's answer settling it", async () => {
    let late: PgCallback | undefined;
    const dead = fakeClient((callback) => {
      late = callback;
      callback(new Error('Connection terminated unexpectedly'));
    });
    let answer: PgCallback | undefined;
    let sent: () => void = () => undefined;
    const resent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    let queries = 0;
    const alive = fakeClient((callback) => {
      queries++;
      answer = callback;
      sent();
    });
    const driver = new PostgresDriver(fakePool(dead, dead, alive), driverConfig());
    // The first checkout opened the client; the second reuses it.
    await driver.releaseConnection(await driver.acquireConnection());
    const connection = await driver.acquireConnection();
    const running = connection.executeQuery(builder.selectFrom('note').select('id').compile());
    await resent;
    // Attempt 0's callback again, now attempt 1 is out: taken, it would replace the client and send the statement a third time.
    late?.(new Error('Connection terminated unexpectedly'));
    late?.(null, { command: 'SELECT', rowCount: 1, rows: [{ id: 'late' }] });
    answer?.(null, { command: 'SELECT', rowCount: 1, rows: [{ id: 'a' }] });
    expect((await running).rows).toEqual([{ id: 'a' }]);
    // And once more after attempt 1 answered: taken, it would count the replacement client broken.
    late?.(new Error('Connection terminated unexpectedly'));
    await driver.releaseConnection(connection);
    expect(queries).toBe(1);
    expect(dead.released).toEqual([undefined, expect.any(Error)]);
    expect(alive.released).toEqual([undefined]);
  });

  it('says the outcome is unknown for a statement written after a class 08 error from a still usable session', async () => {
    // A connection-class error raised by the server for the statement (postgres_fdw's 08006): pg keeps the client usable.
    const remote = Object.assign(new Error('could not connect to server "remote"'), { code: '08006' });
    let answers = 0;
    const client = fakeClient((callback) => {
      answers++;
      // The first statement fails; the next is written and applied, then the connection dies before its answer.
      callback(answers === 1 ? remote : new Error('Connection terminated unexpectedly'));
    });
    const driver = new PostgresDriver(fakePool(client), driverConfig());
    const connection = await driver.acquireConnection();
    await expect(connection.executeQuery(CompiledQuery.raw('select 1 from remote_table'))).rejects.toBeInstanceOf(ConnectionLostError);
    const error = await connection.executeQuery(CompiledQuery.raw('update note set score = score + 1')).catch((caught: unknown) => caught);
    await driver.releaseConnection(connection);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as ConnectionLostError).outcomeUnknown).toBe(true);
    expect((error as ConnectionLostError).retryable).toBe(false);
  });

  it('replaces a dead reused client on a statement run alone, and hands the connection back only once the statement ran again', async () => {
    const result: PgResult = { command: 'SELECT', rowCount: 1, rows: [{ one: 1 }] };
    const dead = fakeClient((callback) => callback(new Error('Connection terminated unexpectedly')));
    const alive = fakeClient((callback) => callback(null, result));
    const changes: number[] = [];
    let driver: PostgresDriver | undefined;
    driver = new PostgresDriver(fakePool(dead, dead, alive), driverConfig({ onPoolChange: () => changes.push(driver?.inUse ?? -1) }));
    // The first checkout opened the client; the second reuses it.
    await driver.releaseConnection(await driver.acquireConnection());
    // A query builder select: it only reads, and so may be sent again.
    const select = builder.selectNoFrom(sql<number>`1`.as('one')).compile();
    const running = driver.executeAlone(select);
    expect(driver.inUse).toBe(1);
    expect((await running).rows).toEqual([{ one: 1 }]);
    expect(driver.inUse).toBe(0);
    expect(dead.released).toEqual([undefined, expect.any(Error)]);
    expect(alive.released).toEqual([undefined]);
    // Gauges refreshed at each checkout and release: the first checkout's two, the statement's checkout, the replacement's
    // (checked out as any connection, counted in beside the dead one until it takes its place) and the statement's release.
    expect(changes).toEqual([1, 0, 1, 2, 0]);
  });

  it('sends a select again on a new client only when its with clauses are selects too', async () => {
    const reading = builder
      .with('kept', (db) => db.selectFrom('note').select('id'))
      .selectFrom('kept')
      .selectAll()
      .compile();
    const writing = builder
      .with('gone', (db) => db.deleteFrom('note').returning('id'))
      .selectFrom('gone')
      .selectAll()
      .compile();
    const result: PgResult = { command: 'SELECT', rowCount: 1, rows: [{ id: 'a' }] };
    for (const [query, resent] of [
      [reading, true],
      [writing, false],
    ] as const) {
      const dead = fakeClient((callback) => callback(new Error('Connection terminated unexpectedly')));
      const alive = fakeClient((callback) => callback(null, result));
      const driver = new PostgresDriver(fakePool(dead, dead, alive), driverConfig());
      await driver.releaseConnection(await driver.acquireConnection());
      const outcome = await driver.executeAlone(query).catch((caught: unknown) => caught);
      if (resent) {
        expect(outcome).toEqual({ rows: [{ id: 'a' }] });
        expect(alive.released).toEqual([undefined]);
      } else {
        expect(outcome).toBeInstanceOf(ConnectionLostError);
        expect((outcome as ConnectionLostError).outcomeUnknown).toBe(true);
        expect(alive.released).toEqual([]);
      }
      expect(dead.released).toEqual([undefined, expect.any(Error)]);
    }
  });

  it('fails a statement run alone on a dead reused client with an unknown outcome where sending it again is not safe', async () => {
    const dead = fakeClient((callback) => callback(new Error('Connection terminated unexpectedly')));
    const driver = new PostgresDriver(fakePool(dead), driverConfig());
    await driver.releaseConnection(await driver.acquireConnection());
    const error = await driver.executeAlone(CompiledQuery.raw('update note set score = 1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as ConnectionLostError).outcomeUnknown).toBe(true);
    expect(driver.inUse).toBe(0);
    expect(dead.released).toEqual([undefined, expect.any(Error)]);
  });

  it.each([
    ['succeeded', (callback: PgCallback) => callback(null, { command: 'SELECT', rowCount: 1, rows: [{ one: 1 }] })],
    ['failed too', (callback: PgCallback) => callback(Object.assign(new Error('relation "missing" does not exist'), { code: '42P01' }))],
  ])(
    'fails a statement run alone with the release failure when handing its connection back fails (the statement %s), and counts the connection back all the same',
    async (_outcome, answer) => {
      const client = fakeClient(answer);
      let changes = 0;
      const driver = new PostgresDriver(
        fakePool(client),
        driverConfig({
          onPoolChange: () => {
            if (++changes === 2) throw new Error('gauge failed');
          },
        }),
      );
      await expect(driver.executeAlone(CompiledQuery.raw('select one from somewhere'))).rejects.toThrow('gauge failed');
      expect(driver.inUse).toBe(0);
      expect(client.released).toEqual([undefined]);
    },
  );

  it('fails a statement run alone with DatabaseClosedError once the driver is closing', async () => {
    const client = fakeClient((callback) => callback(null, { command: 'SELECT', rowCount: 1, rows: [] }));
    const driver = new PostgresDriver(fakePool(client), driverConfig());
    await driver.destroy();
    await expect(driver.executeAlone(CompiledQuery.raw('select 1'))).rejects.toBeInstanceOf(DatabaseClosedError);
    expect(client.released).toEqual([]);
  });

  it('ends its pool once however often it is destroyed, warning of nothing', async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 1 });
    const end = vi.spyOn(pool, 'end');
    const captured = captureLogger('debug');
    const driver = new PostgresDriver(pool as unknown as PgPool, driverConfig({ logger: captured.logger }));
    expect((await driver.executeAlone(CompiledQuery.raw('select 1 as one'))).rows).toEqual([{ one: 1 }]);
    await Promise.all([driver.destroy(), driver.destroy()]);
    await driver.destroy();
    expect(end).toHaveBeenCalledTimes(1);
    expect(pool.totalCount).toBe(0);
    expect(captured.records.map((record) => record.msg)).toEqual([]);
  });

  it('times a statement run alone out with a PoolTimeoutError naming the pool state when no connection came', async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 1, connectionTimeoutMillis: 100 });
    pools.push(pool);
    const driver = new PostgresDriver(pool as unknown as PgPool, driverConfig({ acquireTimeoutMs: 100 }));
    // The pool's 100 ms also bounds opening this connection.
    const held = await checkOut(driver);
    try {
      const error = await driver.executeAlone(CompiledQuery.raw('select 1')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PoolTimeoutError);
      expect((error as PoolTimeoutError).pool).toMatchObject({ total: 1, idle: 0, max: 1 });
      expect(driver.inUse).toBe(1);
    } finally {
      await driver.releaseConnection(held);
    }
    expect((await driver.executeAlone(CompiledQuery.raw('select 1 as one'))).rows).toEqual([{ one: 1 }]);
  });

  it('hands a checked-out client back, destroyed, when refreshing the pool gauges throws', async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 1 });
    pools.push(pool);
    let fail = true;
    const driver = new PostgresDriver(
      pool as unknown as PgPool,
      driverConfig({
        onPoolChange: () => {
          if (fail) throw new Error('gauge failed');
        },
      }),
    );
    await expect(driver.acquireConnection()).rejects.toThrow('gauge failed');
    expect(driver.inUse).toBe(0);
    expect(pool.totalCount).toBe(0);
    fail = false;
    // The pool's one connection is free again.
    const connection = await driver.acquireConnection();
    expect((await connection.executeQuery(CompiledQuery.raw('select 1 as one'))).rows).toEqual([{ one: 1 }]);
    await driver.releaseConnection(connection);
  });

  it('destroys a client the pool hands a checkout that closing failed already, and counts nothing in', async () => {
    const pool = holdingPool();
    const client = fakeClient((callback) => callback(null, { command: 'SELECT', rowCount: 1, rows: [] }));
    let changes = 0;
    const driver = new PostgresDriver(pool, driverConfig({ onPoolChange: () => changes++ }));
    const statement = driver.executeAlone(CompiledQuery.raw('select 1')).catch((caught: unknown) => caught);
    await driver.destroy();
    expect(await statement).toBeInstanceOf(DatabaseClosedError);
    pool.callbacks[0]?.(null, client);
    expect(client.released).toEqual([true]);
    expect(driver.inUse).toBe(0);
    expect(changes).toBe(0);
  });

  it('fails a checkout as the pool failing it when the pool throws instead of calling back, also when replacing a dead client', async () => {
    const ended = () => {
      throw new Error('Cannot use a pool after calling end on the pool');
    };
    const throwing = { ...fakePool(), connect: ended } as unknown as PgPool;
    await expect(new PostgresDriver(throwing, driverConfig()).acquireConnection()).rejects.toBeInstanceOf(DatabaseClosedError);
    await expect(new PostgresDriver(throwing, driverConfig()).executeAlone(CompiledQuery.raw('select 1'))).rejects.toBeInstanceOf(
      DatabaseClosedError,
    );
    // The first client is known dead: the checkout asks the pool again, which throws.
    const dead = fakeClient((callback) => callback(null, { command: 'SELECT', rowCount: 1, rows: [] }));
    let listeners: ((error: Error) => void)[] = [];
    (dead as unknown as { on: unknown }).on = (event: string, listener: (error: Error) => void) => {
      if (event === 'error') listeners.push(listener);
    };
    let checkouts = 0;
    const driver = new PostgresDriver(
      {
        ...fakePool(),
        connect: (callback: (error: Error | null | undefined, client?: PgPoolClient) => void) =>
          checkouts++ === 0 ? callback(null, dead) : ended(),
      } as unknown as PgPool,
      driverConfig(),
    );
    await driver.releaseConnection(await driver.acquireConnection());
    for (const listener of listeners) listener(new Error('Connection terminated unexpectedly'));
    listeners = [];
    checkouts = 0;
    await expect(driver.acquireConnection()).rejects.toBeInstanceOf(DatabaseClosedError);
    expect(driver.inUse).toBe(0);
  });

  it('hands a connection back as after a failed statement when starting the statement throws', async () => {
    const client = fakeClient((callback) => callback(null, { command: 'SELECT', rowCount: 1, rows: [] }));
    let changes = 0;
    const driver = new PostgresDriver(fakePool(client), driverConfig({ onPoolChange: () => changes++ }));
    // Reading the statement's name fails: nothing is sent.
    const unreadable = new Proxy(CompiledQuery.raw('select 1'), {
      get(target, key) {
        if (typeof key === 'symbol') throw new Error('unreadable statement');
        return Reflect.get(target, key);
      },
    });
    await expect(driver.executeAlone(unreadable)).rejects.toThrow('unreadable statement');
    expect(client.released).toEqual([undefined]);
    expect(driver.inUse).toBe(0);
    expect(changes).toBe(2);
  });

  it('fails the commit of a transaction that lost a statement with its connection, with the failed ROLLBACK sent instead as its cause', async () => {
    const lost = (): Error => new Error('Connection terminated unexpectedly');
    let dead = false;
    const client = scriptedClient((text) => {
      if (text === 'select 2') dead = true;
      return dead ? lost() : { command: text === 'begin' ? 'BEGIN' : 'SELECT', rowCount: 1, rows: [] };
    });
    const driver = new PostgresDriver(fakePool(client), driverConfig());
    const connection = await driver.acquireConnection();
    await driver.beginTransaction(connection, {});
    await connection.executeQuery(CompiledQuery.raw('select 1'));
    // Caught, as a session may: the transaction goes on to its commit.
    await expect(connection.executeQuery(CompiledQuery.raw('select 2'))).rejects.toBeInstanceOf(ConnectionLostError);
    const error = await driver.commitTransaction(connection).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransactionAbortedError);
    expect((error as TransactionAbortedError).retryable).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(ConnectionLostError);
    expect(client.sent).toEqual(['begin', 'select 1', 'select 2', 'rollback']);
    await driver.releaseConnection(connection);
    expect(client.released).toEqual([expect.any(Error)]);
  });

  it('commits the next transaction on a connection once the one that lost a statement was rolled back', async () => {
    // A server-side failure of the connection class that leaves the session usable (postgres_fdw's 08006).
    const remote = Object.assign(new Error('could not connect to server "remote"'), { code: '08006' });
    const client = scriptedClient((text) => (text === 'select 2' ? remote : { command: text.toUpperCase(), rowCount: 1, rows: [] }));
    const driver = new PostgresDriver(fakePool(client), driverConfig());
    const connection = await driver.acquireConnection();
    await driver.beginTransaction(connection, {});
    await expect(connection.executeQuery(CompiledQuery.raw('select 2'))).rejects.toBeInstanceOf(ConnectionLostError);
    await driver.rollbackTransaction(connection);
    await driver.beginTransaction(connection, {});
    await connection.executeQuery(CompiledQuery.raw('select 1'));
    await driver.commitTransaction(connection);
    await driver.releaseConnection(connection);
    expect(client.sent).toEqual(['begin', 'select 2', 'rollback', 'begin', 'select 1', 'commit']);
  });

  it('counts no waiting checkout once closing failed them, though pg keeps them queued', async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 1 });
    const driver = new PostgresDriver(pool as unknown as PgPool, driverConfig());
    await driver.acquireConnection();
    const waiting = driver.acquireConnection().catch((caught: unknown) => caught);
    await vi.waitFor(() => expect(driver.stats().waiting).toBe(1));
    await driver.destroy();
    expect(await waiting).toBeInstanceOf(DatabaseClosedError);
    expect(pool.waitingCount).toBe(1);
    expect(driver.stats().waiting).toBe(0);
  });
});

/** Runs `work` and fails if a promise rejected unobserved meanwhile (checked a turn after it ends). */
async function withoutUnhandledRejections(work: () => Promise<void>): Promise<void> {
  const unhandled = vi.fn();
  process.on('unhandledRejection', unhandled);
  try {
    await work();
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).not.toHaveBeenCalled();
  } finally {
    process.off('unhandledRejection', unhandled);
  }
}
