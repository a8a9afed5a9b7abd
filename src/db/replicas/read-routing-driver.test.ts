import { CompiledQuery, type Driver, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase } from '../../../test/services.js';
import { Secret } from '../../config/secret.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import type { Database } from '../database.js';
import { type ContractTables, openContractDatabase } from '../database-contract.test-helpers.js';
import { TcpProxy } from '../tcp-proxy.test-helpers.js';
import { ReadRoutingDriver } from './read-routing-driver.js';
import type { ReplicaSet } from './replica-set.js';

/*
 * dbRead against real PostgreSQL: with its one replica down, every statement falls back to the
 * primary, which must refuse writes as a replica would. On a healthy replica statements go out
 * bare (a stand-in replica here; replicas.test.ts reads from a real streaming replica).
 */

/** A replica nothing listens for: it is down from the first measurement. */
const DOWN = 'postgres://postgres@127.0.0.1:1/postgres';

let primary: { url: string; drop(): Promise<void> };
let fallback: Database<ContractTables>;

function openWithReplica(replicaUrl: string, label: string): Promise<Database<ContractTables>> {
  return openContractDatabase(primary.url, {
    replicas: { urls: new Secret('DATABASE_REPLICA_URLS', replicaUrl), labels: [label], maxLagMs: 10_000, checkIntervalMs: 1000 },
  });
}

/** The error a statement failed with, as `name: message`, or `answered` if it succeeded. */
function outcome(run: Promise<unknown>): Promise<string> {
  return run.then(
    () => 'answered',
    (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
  );
}

const readOnlySetting = sql<{ setting: string }>`select current_setting('transaction_read_only') as setting`;

beforeAll(async () => {
  primary = await freshPostgresDatabase('gw_dbread');
  fallback = await openWithReplica(DOWN, 'down');
  await fallback.migrate('up');
  await fallback.db.insertInto('note').values({ id: 'kept', title: 'kept', done: false }).execute();
});

afterAll(async () => {
  await Promise.allSettled([fallback?.close()]);
  await primary?.drop();
});

async function noteIds(): Promise<string[]> {
  return (await fallback.db.selectFrom('note').select('id').orderBy('id').execute()).map((row) => row.id);
}

describe('dbRead falling back to the primary', () => {
  it('falls back because its replica is down', () => {
    expect(fallback.replicaStatus().map((status) => status.state)).toEqual(['down']);
  });

  it('refuses a write written as raw SQL or as a select over a data-modifying with, as it refuses insert()', async () => {
    const builder = await outcome(fallback.dbRead.insertInto('note').values({ id: 'builder', title: 'x', done: false }).execute());
    const raw = await outcome(sql`insert into note (id, title) values ('raw', 'x')`.execute(fallback.dbRead));
    const update = await outcome(sql`update note set title = 'changed'`.execute(fallback.dbRead));
    const cte = await outcome(
      fallback.dbRead
        .with('gone', (db) => db.deleteFrom('note').where('id', '=', 'kept').returning('id'))
        .selectFrom('gone')
        .selectAll()
        .execute(),
    );
    expect({ builder, raw, update, cte }).toEqual({
      builder: expect.stringMatching(/dbRead is read-only/),
      raw: expect.stringMatching(/cannot execute INSERT in a read-only transaction/),
      update: expect.stringMatching(/cannot execute UPDATE in a read-only transaction/),
      cte: expect.stringMatching(/cannot execute SELECT in a read-only transaction/),
    });
    expect(await noteIds()).toEqual(['kept']);
    expect(await fallback.db.selectFrom('note').select('title').where('id', '=', 'kept').executeTakeFirst()).toEqual({ title: 'kept' });
  });

  it('runs raw reads and builder reads, each in a read-only transaction of its own', async () => {
    expect((await readOnlySetting.execute(fallback.dbRead)).rows).toEqual([{ setting: 'on' }]);
    expect((await sql<{ id: string }>`select id from note`.execute(fallback.dbRead)).rows).toEqual([{ id: 'kept' }]);
    expect(await fallback.dbRead.selectFrom('note').select('id').execute()).toEqual([{ id: 'kept' }]);
    // Nothing is left open on the connection: the primary's own statements still write.
    await fallback.db.insertInto('note').values({ id: 'later', title: 'x', done: false }).execute();
    await fallback.db.deleteFrom('note').where('id', '=', 'later').execute();
  });

  it('keeps working after a statement failed, its transaction rolled back', async () => {
    expect(await outcome(sql`select * from no_such_table`.execute(fallback.dbRead))).toMatch(/no_such_table/);
    expect(await outcome(sql`insert into note (id, title) values ('raw', 'x')`.execute(fallback.dbRead))).toMatch(/read-only/);
    expect((await sql<{ one: number }>`select 1 as one`.execute(fallback.dbRead)).rows).toEqual([{ one: 1 }]);
    expect(fallback.poolStats()).toMatchObject({ total: 1, idle: 1 });
  });

  it('fails with the statement error when its connection dies under it, and reads on another one', async () => {
    const died = await outcome(sql`select pg_terminate_backend(pg_backend_pid())`.execute(fallback.dbRead));
    expect(died).toMatch(/^ConnectionLostError: .*terminating connection due to administrator command/);
    expect((await sql<{ one: number }>`select 1 as one`.execute(fallback.dbRead)).rows).toEqual([{ one: 1 }]);
  });

  it('runs a dbRead transaction read-only, as before', async () => {
    const setting = await fallback.dbRead.transaction().execute(async (tx) => (await readOnlySetting.execute(tx)).rows[0]?.setting);
    expect(setting).toBe('on');
    const write = fallback.dbRead.transaction().execute((tx) => sql`insert into note (id, title) values ('tx', 'x')`.execute(tx));
    await expect(write).rejects.toThrow(/cannot execute INSERT in a read-only transaction/);
    expect(await noteIds()).toEqual(['kept']);
  });
});

describe('dbRead falling back to a primary whose connection is lost under the COMMIT', () => {
  it('returns the result of the statement that succeeded, logs the loss at debug, and discards the dead connection', async () => {
    const server = new URL(primary.url);
    const proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    await proxy.accept();
    const url = new URL(primary.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const { logger, records } = captureLogger('debug');
    const database = await openContractDatabase(
      url.toString(),
      {
        poolSize: 1,
        maxOverflow: 0,
        replicas: { urls: new Secret('DATABASE_REPLICA_URLS', DOWN), labels: ['down'], maxLagMs: 10_000, checkIntervalMs: 1000 },
      },
      { logger },
    );
    try {
      await sql`select 1`.execute(database.dbRead);
      // BEGIN and the select are answered; the connection breaks as COMMIT goes out.
      proxy.cutAfterNextAnswer();
      const { rows } = await sql<{ id: string }>`select id from note order by id`.execute(database.dbRead);
      expect(rows).toEqual([{ id: 'kept' }]);
      expect(JSON.stringify(records)).toMatch(/the connection was lost under the COMMIT of a read on the primary; its result stands/);
      expect(database.poolStats()).toMatchObject({ total: 0 });
      expect((await sql<{ one: number }>`select 1 as one`.execute(database.dbRead)).rows).toEqual([{ one: 1 }]);
      expect(database.poolStats()).toMatchObject({ total: 1, idle: 1 });
    } finally {
      await database.close();
      await proxy.close();
    }
  });
});

describe('dbRead on a healthy replica, a stand-in', () => {
  it('sends statements bare, in no transaction of their own', async () => {
    const sent: string[] = [];
    const replicaDriver = {
      acquireConnection: async () => ({
        executeQuery: async (query: CompiledQuery) => {
          sent.push(query.sql);
          return { rows: [{ one: 1 }] };
        },
      }),
      beginTransaction: async () => sent.push('begin'),
      commitTransaction: async () => sent.push('commit'),
      releaseConnection: async () => undefined,
    } as unknown as Driver;
    const replica = { label: 'stand-in', driver: replicaDriver };
    const replicas = { pick: () => replica, count: () => undefined } as unknown as ReplicaSet<unknown>;
    const driver = new ReadRoutingDriver(replicas, {} as Driver, captureLogger('debug').logger);
    const connection = await driver.acquireConnection();
    await expect(connection.executeQuery(CompiledQuery.raw('select 1 as one'))).resolves.toEqual({ rows: [{ one: 1 }] });
    expect(sent).toEqual(['select 1 as one']);
  });
});

describe('dbRead on the primary fallback, with a stand-in primary driver', () => {
  it('fails with a COMMIT error that is not a lost connection, rather than hide it', async () => {
    const refused = new Error('could not commit');
    const primaryDriver = {
      init: async () => undefined,
      acquireConnection: async () => ({ executeQuery: async () => ({ rows: [{ one: 1 }] }), streamQuery: () => undefined }),
      beginTransaction: async () => undefined,
      commitTransaction: async () => Promise.reject(refused),
      rollbackTransaction: async () => undefined,
      releaseConnection: async () => undefined,
      destroy: async () => undefined,
    } as unknown as Driver;
    const noReplica = { pick: () => undefined, count: () => undefined } as unknown as ReplicaSet<unknown>;
    const { logger, records } = captureLogger('debug');
    const driver = new ReadRoutingDriver(noReplica, primaryDriver, logger);
    const connection = await driver.acquireConnection();
    await expect(connection.executeQuery(CompiledQuery.raw('select 1 as one'))).rejects.toBe(refused);
    expect(records).toEqual([]);
  });
});
