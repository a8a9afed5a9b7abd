import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, uniqueName } from '../../test/services.js';
import type { Database } from './database.js';
import type { ContractTables, NoteTable } from './database-contract.test-helpers.js';
import { openContractDatabase } from './database-contract.test-helpers.js';
import { BUILDER_STATEMENTS_PER_CONNECTION, STATEMENTS_PER_CONNECTION } from './postgres/statement-names.js';
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

/** How many named statements the (only) connection holds for `text`. */
async function statementsFor(text: string): Promise<number> {
  const { rows } = await sql<{ count: string }>`select count(*) as count from pg_prepared_statements where statement = ${text}`.execute(
    database.db,
  );
  return Number(rows[0]?.count);
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
  database = await openContractDatabase(url.toString(), { poolSize: 1, maxOverflow: 0, namedBuilderStatements: true });
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

  it('sends a prepared query as the builder would: BEGIN with it in one write, a point read in one', async () => {
    const insert = database.prepare((db, params: { id: string }) =>
      db.insertInto('note').values({ id: params.id, title: params.id, done: false, due_at: null, meta: null, score: null }),
    );
    const find = database.prepare((db, params: { id: string }) => db.selectFrom('note').select('id').where('id', '=', params.id));
    expect(await writesOf(() => database.withSession(() => insert.execute({ id: 'prepared-two-writes' })))).toBe(2);
    expect(await committed('prepared-two-writes')).toBe(true);
    expect(await writesOf(() => find.execute({ id: 'prepared-two-writes' }))).toBe(1);
  });

  it('runs a prepared query as a named statement, parsed once per connection', async () => {
    const find = database.prepare((db, params: { id: string }) => db.selectFrom('note').select('id').where('id', '=', params.id));
    const prepared = (tx: Kysely<ContractTables>) =>
      sql<{ statement: string }>`select statement from pg_prepared_statements`
        .execute(tx)
        .then((result) => result.rows.filter((row) => row.statement === find.sql).length);
    const [before, after] = await database.withSession(async (tx) => {
      await find.execute({ id: 'a' });
      const first = await prepared(tx);
      await find.execute({ id: 'b' });
      await find.execute({ id: 'c' });
      return [first, await prepared(tx)];
    });
    expect(before).toBeGreaterThan(0);
    expect(after).toBe(before);
  });

  it('sends a recurring query-builder statement as a named one from its second run, shared with a prepared query of the same SQL', async () => {
    const find = (id: string) => database.db.selectFrom('note').select(['id', 'done']).where('id', '=', id).where('done', '=', false);
    const text = find('x').compile().sql;
    expect(await statementsFor(text)).toBe(0);
    await find('first').execute();
    // A text seen once goes out unnamed.
    expect(await statementsFor(text)).toBe(0);
    await database.withSession((tx) =>
      tx.selectFrom('note').select(['id', 'done']).where('id', '=', 'second').where('done', '=', false).execute(),
    );
    expect(await statementsFor(text)).toBe(1);
    for (let index = 0; index < 20; index++) await find(`again-${index}`).execute();
    expect(await statementsFor(text)).toBe(1);
    const prepared = database.prepare((db, params: { id: string; done: boolean }) =>
      db.selectFrom('note').select(['id', 'done']).where('id', '=', params.id).where('done', '=', params.done),
    );
    expect(prepared.sql).toBe(text);
    await prepared.execute({ id: 'prepared', done: false });
    expect(await statementsFor(text)).toBe(1);
  });

  it('keeps statements without parameters unnamed, so that one text may still hold several statements', async () => {
    // Sent as a named statement, it would fail: the extended protocol takes one statement per text.
    const several = sql`select 1 as one; select 2 as two`;
    for (let index = 0; index < 3; index++) await several.execute(database.db);
    await database.withSession(async (tx) => {
      for (let index = 0; index < 3; index++) await several.execute(tx);
    });
    expect(await statementsFor('select 1 as one; select 2 as two')).toBe(0);
  });

  it('parses a recurring query-builder statement afresh once a schema change altered its result, at once outside a transaction', async () => {
    await sql`create table builder_plan (id integer primary key)`.execute(database.db);
    await sql`insert into builder_plan (id) values (1)`.execute(database.db);
    type Tables = { builder_plan: { id: number; extra: number | null } };
    const find = (on: Kysely<ContractTables>) =>
      (on as unknown as Kysely<Tables>).selectFrom('builder_plan').selectAll().where('id', '=', 1).executeTakeFirst();
    await find(database.db);
    expect(await find(database.db)).toEqual({ id: 1 });
    expect(
      await statementsFor(
        (database.db as unknown as Kysely<Tables>).selectFrom('builder_plan').selectAll().where('id', '=', 1).compile().sql,
      ),
    ).toBe(1);
    await sql`alter table builder_plan add column extra integer`.execute(database.db);
    expect(await find(database.db)).toEqual({ id: 1, extra: null });
    // Renamed by the failure: a transaction parses it afresh under its new name.
    expect(await database.withSession((tx) => find(tx))).toEqual({ id: 1, extra: null });
  });

  it('parses a prepared query afresh once a schema change altered its result: at once outside a transaction, at the next one inside', async () => {
    await sql`create table plan_change (id integer primary key)`.execute(database.db);
    await sql`insert into plan_change (id) values (1)`.execute(database.db);
    const find = database.prepare((db, params: { id: number }) =>
      (db as unknown as Kysely<{ plan_change: { id: number; extra: number | null } }>)
        .selectFrom('plan_change')
        .selectAll()
        .where('id', '=', params.id),
    );
    const held = () => statementsFor(find.sql);
    expect(await find.takeFirst({ id: 1 })).toEqual({ id: 1 });
    expect(await held()).toBe(1);
    await sql`alter table plan_change add column extra integer`.execute(database.db);
    expect(await find.takeFirst({ id: 1 })).toEqual({ id: 1, extra: null });
    // The retry went out unnamed (PgBouncer keys named statements by their text, so a new name
    // could meet the same stale plan there): the server holds no statement under the new name yet.
    expect(await held()).toBe(1);
    expect(await find.takeFirst({ id: 1 })).toEqual({ id: 1, extra: null });
    expect(await held()).toBe(2);
    await sql`alter table plan_change add column more integer`.execute(database.db);
    const stale = await database.withSession(() => find.takeFirst({ id: 1 })).catch((error: unknown) => error);
    // Recognised by SQLSTATE and the raising function, which lc_messages does not translate.
    expect(stale).toMatchObject({ code: '0A000', routine: 'RevalidateCachedQuery' });
    expect(await database.withSession(() => find.takeFirst({ id: 1 }))).toEqual({ id: 1, extra: null, more: null });
  });

  it('keeps a named statement usable on its connection after a value failed to serialise', async () => {
    const failing = {
      toPostgres: () => {
        throw new Error('cannot serialise');
      },
    };
    const insert = database.prepare((db, params: { id: string; title: string }) =>
      db.insertInto('note').values({ id: params.id, title: params.title, done: false, due_at: null, meta: null, score: null }),
    );
    // Once already parsed on the connection, and once on the statement's first use there.
    await insert.execute({ id: 'serialise-1', title: 'ok' });
    await expect(insert.execute({ id: 'serialise-2', title: failing as unknown as string })).rejects.toThrow('cannot serialise');
    await insert.execute({ id: 'serialise-3', title: 'ok' });
    await database.withSession(() => insert.execute({ id: 'serialise-4', title: 'ok' }));
    const first = database.prepare((db, params: { title: string }) => db.selectFrom('note').select('id').where('title', '=', params.title));
    await expect(first.execute({ title: failing as unknown as string })).rejects.toThrow('cannot serialise');
    expect((await first.execute({ title: 'ok' })).rows.map((row) => row.id).sort()).toEqual(['serialise-1', 'serialise-3', 'serialise-4']);
    expect((await database.withSession(() => first.execute({ title: 'ok' }))).rows).toHaveLength(3);
  });

  it('keeps the statements of other connections when a value fails to serialise on one', async () => {
    const url = new URL(postgresUrl());
    url.pathname = `/${databaseName}`;
    const pair = await openContractDatabase(url.toString(), { poolSize: 2, maxOverflow: 0 });
    try {
      const insert = pair.prepare((db, params: { id: string; title: string }) =>
        db.insertInto('note').values({ id: params.id, title: params.title, done: false, due_at: null, meta: null, score: null }),
      );
      const failing = {
        toPostgres: () => {
          throw new Error('cannot serialise');
        },
      };
      /** Runs `work` on both connections at once; answers, per connection, the names it holds for the insert. */
      const onBoth = async (work: (side: number) => Promise<unknown>): Promise<string[][]> => {
        let arrive: () => void = () => undefined;
        const together = new Promise<void>((resolve) => {
          let waiting = 2;
          arrive = () => {
            if (--waiting === 0) resolve();
          };
        });
        return Promise.all(
          [0, 1].map((side) =>
            pair.withSession(async (tx) => {
              arrive();
              await together;
              await work(side);
              const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements where statement = ${insert.sql}`.execute(
                tx,
              );
              return rows.map((row) => row.name);
            }),
          ),
        );
      };
      const before = await onBoth((side) => insert.execute({ id: `pair-a-${side}`, title: 'ok' }));
      expect(before.map((names) => names.length)).toEqual([1, 1]);
      await expect(pair.withSession(() => insert.execute({ id: 'pair-fail', title: failing as unknown as string }))).rejects.toThrow(
        'cannot serialise',
      );
      // The connection the value failed on parses the statement again; the other keeps the one it holds.
      const after = await onBoth((side) => insert.execute({ id: `pair-b-${side}`, title: 'ok' }));
      expect(after).toEqual(before);
    } finally {
      await pair.close();
    }
  });

  it('parses a named statement again when the server no longer holds it', async () => {
    const find = database.prepare((db, params: { id: string }) =>
      db.selectFrom('note').select('id').where('id', '=', params.id).where('title', '=', params.id),
    );
    await find.execute({ id: 'x' });
    await sql`deallocate all`.execute(database.db);
    expect((await find.execute({ id: 'serialise-1' })).rows).toEqual([]);
    await sql`deallocate all`.execute(database.db);
    // Inside a transaction the failed statement cannot be sent again: the transaction fails, the next call works.
    await expect(database.withSession(() => find.execute({ id: 'x' }))).rejects.toMatchObject({ code: '26000' });
    expect((await database.withSession(() => find.execute({ id: 'x' }))).rows).toEqual([]);
  });

  it('never sends again, outside its transaction, a statement the session left in flight', async () => {
    const insert = database.prepare((db, params: { id: string }) =>
      db.insertInto('note').values({ id: params.id, title: params.id, done: false, due_at: null, meta: null, score: null }),
    );
    await insert.execute({ id: 'in-flight-warm' });
    let pending: Promise<unknown> | undefined;
    await database
      .withSession(async (tx) => {
        // pg still counts the statement as parsed; the server fails it with 26000 once it arrives.
        await sql`deallocate all`.execute(tx);
        pending = insert.execute({ id: 'in-flight' });
        // Handled at once: it may fail before the assertion below is attached to it.
        pending.catch(() => undefined);
        // Sent, but not awaited: its failure arrives after COMMIT went out.
        for (let turn = 0; turn < 50; turn++) await Promise.resolve();
      })
      .catch(() => undefined);
    await expect(pending).rejects.toMatchObject({ code: '26000' });
    expect(await committed('in-flight')).toBe(false);
  });

  it('shares one named statement per connection among prepared queries with the same SQL', async () => {
    const build = (db: Kysely<ContractTables>, params: { id: string }) =>
      db.selectFrom('note').select(['id', 'title']).where('id', '=', params.id);
    for (let index = 0; index < 1000; index++) await database.prepare(build).execute({ id: `same-${index}` });
    expect(await statementsFor(database.prepare(build).sql)).toBe(1);
  });

  it('deallocates the least recently used named statements past a hundred per connection', async () => {
    const queries = Array.from({ length: 130 }, (_, index) =>
      database.prepare((db, params: { id: string }) =>
        db
          .selectFrom('note')
          .select(sql<number>`${sql.lit(index)}`.as('n'))
          .where('id', '=', params.id),
      ),
    );
    for (const query of queries) await query.execute({ id: 'none' });
    const oldest = queries[0];
    const newest = queries[129];
    if (oldest === undefined || newest === undefined) throw new Error('no queries');
    const { rows } = await sql<{ count: string }>`select count(*) as count from pg_prepared_statements`.execute(database.db);
    // The query builder's statements of earlier tests have a budget of their own beside these.
    expect(Number(rows[0]?.count)).toBeLessThanOrEqual(STATEMENTS_PER_CONNECTION + BUILDER_STATEMENTS_PER_CONNECTION);
    expect(await statementsFor(newest.sql)).toBe(1);
    expect(await statementsFor(oldest.sql)).toBe(0);
    // An evicted statement is parsed again when it is used again, in a transaction too.
    expect((await database.withSession(() => oldest.execute({ id: 'none' }))).rows).toEqual([]);
    expect(await statementsFor(oldest.sql)).toBe(1);
    // Evicting a statement the server no longer holds does not fail the transaction it travels in.
    await sql`deallocate all`.execute(database.db);
    const fresh = database.prepare((db, params: { id: string }) =>
      db
        .selectFrom('note')
        .select(sql<number>`${sql.lit(-1)}`.as('n'))
        .where('id', '=', params.id),
    );
    await database.withSession(async (tx) => {
      expect((await fresh.execute({ id: 'none' })).rows).toEqual([]);
      expect((await sql<{ one: number }>`select 1 as one`.execute(tx)).rows).toEqual([{ one: 1 }]);
    });
  });

  it('keeps builder statements unnamed by default, so a select * in a transaction survives a schema change', async () => {
    const url = new URL(postgresUrl());
    url.pathname = `/${databaseName}`;
    const plain = await openContractDatabase(url.toString(), { poolSize: 1, maxOverflow: 0 });
    try {
      await sql`create table default_plan (id integer primary key)`.execute(plain.db);
      await sql`insert into default_plan (id) values (1)`.execute(plain.db);
      type Tables = { default_plan: { id: number; extra: number | null } };
      const find = (on: Kysely<ContractTables>) =>
        (on as unknown as Kysely<Tables>).selectFrom('default_plan').selectAll().where('id', '=', 1).executeTakeFirst();
      for (let index = 0; index < 3; index++) expect(await find(plain.db)).toEqual({ id: 1 });
      expect(await plain.withSession((tx) => find(tx))).toEqual({ id: 1 });
      await sql`alter table default_plan add column extra integer`.execute(plain.db);
      expect(await plain.withSession((tx) => find(tx))).toEqual({ id: 1, extra: null });
      const { rows } = await sql<{ count: string }>`select count(*) as count from pg_prepared_statements`.execute(plain.db);
      expect(Number(rows[0]?.count)).toBe(0);
    } finally {
      await plain.close();
    }
  });

  it("never evicts a prepared query's named statement for the query builder's", async () => {
    const find = database.prepare((db, params: { id: string }) =>
      db.selectFrom('note').select(['id', 'title', 'done']).where('id', '=', params.id),
    );
    await find.execute({ id: 'kept' });
    expect(await statementsFor(find.sql)).toBe(1);
    for (let index = 0; index < 150; index++) {
      for (let run = 0; run < 2; run++) {
        await database.db
          .selectFrom('note')
          .select(sql<number>`${sql.lit(index)}`.as('n'))
          .where('id', '=', 'none')
          .execute();
      }
    }
    expect(await statementsFor(find.sql)).toBe(1);
    const { rows } = await sql<{ count: string }>`select count(*) as count from pg_prepared_statements`.execute(database.db);
    expect(Number(rows[0]?.count)).toBeLessThanOrEqual(STATEMENTS_PER_CONNECTION + BUILDER_STATEMENTS_PER_CONNECTION);
  });

  it('sends prepared queries and recurring builder statements unnamed when DB_PREPARED_STATEMENTS is false', async () => {
    const url = new URL(postgresUrl());
    url.pathname = `/${databaseName}`;
    // Naming builder statements needs DB_PREPARED_STATEMENTS on as well.
    const unnamed = await openContractDatabase(url.toString(), {
      poolSize: 1,
      maxOverflow: 0,
      preparedStatements: false,
      namedBuilderStatements: true,
    });
    try {
      const find = unnamed.prepare((db, params: { id: string }) =>
        db.selectFrom('note').select('title').where('id', '=', params.id).limit(1),
      );
      await unnamed.db.insertInto('note').values(note('unnamed')).execute();
      expect(await find.takeFirst({ id: 'unnamed' })).toEqual({ title: 'unnamed' });
      expect(await unnamed.withSession(() => find.takeFirst({ id: 'unnamed' }))).toEqual({ title: 'unnamed' });
      for (let index = 0; index < 3; index++) {
        expect(await unnamed.db.selectFrom('note').select('title').where('id', '=', 'unnamed').executeTakeFirst()).toEqual({
          title: 'unnamed',
        });
      }
      const { rows } = await sql<{ count: string }>`select count(*) as count from pg_prepared_statements`.execute(unnamed.db);
      expect(Number(rows[0]?.count)).toBe(0);
    } finally {
      await unnamed.close();
    }
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
