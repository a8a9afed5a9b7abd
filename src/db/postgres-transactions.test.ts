import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, uniqueName } from '../../test/services.js';
import type { Database } from './database.js';
import type { ContractTables, NoteTable } from './database-contract.test-helpers.js';
import { openContractDatabase } from './database-contract.test-helpers.js';
import { TcpProxy } from './tcp-proxy.test-helpers.js';

/*
 * How transactions travel on the wire: BEGIN goes out with the first statement, in one write.
 * The proxy counts the client's writes; each awaited statement is one write of its own.
 */

const databaseName = uniqueName('gw_tx_wire');
let admin: pg.Client;
let proxy: TcpProxy;
let database: Database<ContractTables>;

function note(id: string): NoteTable {
  return { id, title: id, done: false, due_at: null, meta: null, score: null };
}

/** The client writes `run` makes. */
async function writesOf(run: () => Promise<unknown>): Promise<number> {
  const before = proxy.clientWrites;
  await run();
  return proxy.clientWrites - before;
}

async function committed(id: string): Promise<boolean> {
  const url = new URL(postgresUrl());
  url.pathname = `/${databaseName}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query('select 1 from note where id = $1', [id])).rowCount === 1;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`create database "${databaseName}"`);
  const server = new URL(postgresUrl());
  proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  await proxy.accept();
  const url = new URL(postgresUrl());
  url.pathname = `/${databaseName}`;
  url.host = `127.0.0.1:${proxy.port}`;
  // One connection: whatever a transaction leaves on it, the next one meets.
  database = await openContractDatabase(url.toString(), { poolSize: 1, maxOverflow: 0 });
  await database.migrate('up');
  await sql`select 1`.execute(database.db);
});

afterAll(async () => {
  await database?.close();
  await proxy?.close();
  await admin.query(`drop database if exists "${databaseName}" with (force)`);
  await admin.end();
});

describe('PostgreSQL transactions on the wire', () => {
  it('sends BEGIN with the first statement: a one-statement transaction is two writes, not three', async () => {
    expect(await writesOf(() => database.withSession((tx) => tx.insertInto('note').values(note('two-writes')).execute()))).toBe(2);
    expect(await committed('two-writes')).toBe(true);
    // A point read outside a transaction stays one write.
    expect(await writesOf(() => database.db.selectFrom('note').select('id').execute())).toBe(1);
  });

  it('sends nothing for a transaction that runs no statement, whether it resolves or throws', async () => {
    expect(await writesOf(() => database.withSession(async () => 'nothing'))).toBe(0);
    const failure = new Error('before any statement');
    expect(
      await writesOf(() =>
        database
          .withSession(async () => {
            throw failure;
          })
          .catch((error: unknown) => expect(error).toBe(failure)),
      ),
    ).toBe(0);
  });

  it('rolls back when the first statement fails, leaving the connection out of any transaction', async () => {
    await database.withSession((tx) => tx.insertInto('note').values(note('taken')).execute());
    const failed = database.withSession((tx) => tx.insertInto('note').values(note('taken')).execute());
    await expect(failed).rejects.toThrow(/duplicate key/);
    // The same (only) connection: had the failed transaction stayed open, this would fail as aborted and never commit.
    await database.withSession((tx) => tx.insertInto('note').values(note('after-failed-first')).execute());
    expect(await committed('after-failed-first')).toBe(true);
  });

  it('keeps first statements started side by side in the one transaction, and rolls them all back', async () => {
    const failure = new Error('undo both');
    await expect(
      database.withSession(async (tx) => {
        await Promise.all([tx.insertInto('note').values(note('side-a')).execute(), tx.insertInto('note').values(note('side-b')).execute()]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await committed('side-a')).toBe(false);
    expect(await committed('side-b')).toBe(false);
  });

  it('carries the transaction settings with the first statement: a read-only session refuses writes', async () => {
    await expect(
      database.withSession((tx) => tx.insertInto('note').values(note('read-only')).execute(), { readOnly: true }),
    ).rejects.toThrow(/read-only transaction/);
    const level = await database.withSession(
      async (tx) => (await sql<{ level: string }>`select current_setting('transaction_isolation') as level`.execute(tx)).rows[0]?.level,
      { isolationLevel: 'serializable' },
    );
    expect(level).toBe('serializable');
    expect(await committed('read-only')).toBe(false);
  });

  it('runs a savepoint as the first statement inside the transaction', async () => {
    await database.withSession(async () => {
      await database
        .withSession(async (tx) => {
          await tx.insertInto('note').values(note('inner-undone')).execute();
          throw new Error('inner');
        })
        .catch(() => undefined);
      await database.withSession((tx) => tx.insertInto('note').values(note('inner-kept')).execute());
    });
    expect(await committed('inner-undone')).toBe(false);
    expect(await committed('inner-kept')).toBe(true);
  });
});
