import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteAdapter, sql } from 'kysely';
import { expect, expectTypeOf, it } from 'vitest';
import type { Database } from './database.js';
import { DatabaseClosedError } from './database-closed-error.js';
import type { ContractTables, NoteTable } from './database-contract.test-helpers.js';
import { PreparedQueryError } from './prepared-query-error.js';

const due = new Date('2032-01-02T03:04:05.678Z');

/** A query builder of the other SQL dialect that never reaches a database. */
function otherDialect(database: Database<ContractTables>): Kysely<ContractTables> {
  const adapter = database.dialect === 'sqlite' ? new PostgresAdapter() : new SqliteAdapter();
  return new Kysely<ContractTables>({
    dialect: {
      createAdapter: () => adapter,
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

/**
 * The prepared-query part of the database contract: registered inside the contract's describe,
 * after its migrations test, on the same database.
 */
export function preparedQueryContract(current: () => Database<ContractTables>, openOther: () => Promise<Database<ContractTables>>): void {
  const prepared = (database: Database<ContractTables>) => ({
    insert: database.prepare((db, params: NoteTable) =>
      db.insertInto('note').values({
        id: params.id,
        title: params.title,
        done: params.done,
        due_at: params.due_at,
        meta: params.meta,
        score: params.score,
      }),
    ),
    find: database.prepare((db, params: { id: string }) => db.selectFrom('note').selectAll().where('id', '=', params.id)),
    countLike: database.prepare((db, params: { pattern: string }) =>
      db
        .selectFrom('note')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('id', 'like', params.pattern),
    ),
  });

  it('runs a prepared query with new values at each call, as parameters, with values mapped', async () => {
    const database = current();
    const { insert, find } = prepared(database);
    expect(find.parameterNames).toEqual(['id']);
    expect(find.sql).not.toContain('p-');
    const row = { id: 'p-1', title: "it's", done: true, due_at: due, meta: { tags: ['x'], nested: { level: 1 } }, score: 0.5 };
    const written = await insert.execute(row);
    expect(written.numAffectedRows).toBe(1n);
    await insert.execute({ ...row, id: 'p-2', done: false, due_at: null, meta: null, score: null });
    expect(await find.takeFirst({ id: 'p-1' })).toEqual(row);
    expect((await find.execute({ id: 'p-2' })).rows).toEqual([{ ...row, id: 'p-2', done: false, due_at: null, meta: null, score: null }]);
    expect(await find.takeFirst({ id: "p-1' or '1' = '1" })).toBeUndefined();
    // The builder's form answers the same rows.
    expect(await database.db.selectFrom('note').selectAll().where('id', '=', 'p-1').execute()).toEqual([row]);
  });

  it('runs a prepared query in the current session: a failed session leaves no partial write', async () => {
    const database = current();
    const { insert, find } = prepared(database);
    const note = { id: 'p-tx-1', title: 't', done: false, due_at: null, meta: null, score: null };
    const failure = new Error('second write refused');
    await expect(
      database.withSession(async () => {
        await insert.execute(note);
        // Inside the session the prepared read sees the session's own write.
        expect(await find.takeFirst({ id: 'p-tx-1' })).toMatchObject({ id: 'p-tx-1' });
        await insert.execute({ ...note, id: 'p-tx-2' });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await find.takeFirst({ id: 'p-tx-1' })).toBeUndefined();
    expect(await find.takeFirst({ id: 'p-tx-2' })).toBeUndefined();
    // A statement that fails in the database rolls its session back too.
    await expect(
      database.withSession(async () => {
        await insert.execute({ ...note, id: 'p-tx-3' });
        await insert.execute({ ...note, id: 'p-tx-3' });
      }),
    ).rejects.toThrow();
    expect(await find.takeFirst({ id: 'p-tx-3' })).toBeUndefined();
    expect(database.poolStats().waiting).toBe(0);
  });

  it('keeps nested sessions in the outer transaction, with or without the transaction given', async () => {
    const database = current();
    const { insert, find, countLike } = prepared(database);
    const note = { id: 'p-n-outer', title: 'o', done: false, due_at: null, meta: null, score: null };
    await database.withSession(async (tx) => {
      await insert.execute(note, tx);
      await database.withSession(async (inner) => {
        expect(await find.takeFirst({ id: 'p-n-outer' })).toMatchObject({ id: 'p-n-outer' });
        expect(await find.takeFirst({ id: 'p-n-outer' }, inner)).toMatchObject({ id: 'p-n-outer' });
        await insert.execute({ ...note, id: 'p-n-kept' });
      });
      await expect(
        database.withSession(async () => {
          await insert.execute({ ...note, id: 'p-n-undone' });
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      // Other connections do not see the transaction's writes before it commits (not on one-session PGlite).
      if (database.dialect === 'postgres') expect(await find.takeFirst({ id: 'p-n-outer' }, database.db)).toBeUndefined();
    });
    expect(Number((await countLike.takeFirst({ pattern: 'p-n-%' }))?.count)).toBe(2);
    expect(await find.takeFirst({ id: 'p-n-kept' }, database.dbRead)).toMatchObject({ id: 'p-n-kept' });
  });

  it('refuses wrong parameters before sending anything', async () => {
    const database = current();
    const { insert, find } = prepared(database);
    await expect(find.execute({} as { id: string })).rejects.toThrow(
      new PreparedQueryError('Prepared query: the parameter "id" is missing (use null for SQL NULL).'),
    );
    await expect(find.execute({ id: 'p-1', idd: 'x' } as { id: string })).rejects.toThrow(
      /unknown parameter "idd"; it takes the parameters "id"/,
    );
    await expect(find.execute(null as unknown as { id: string })).rejects.toBeInstanceOf(PreparedQueryError);
    await expect(
      database.withSession(async () => {
        await insert.execute({ id: 'p-bad-1', title: 't', done: false, due_at: null, meta: null, score: null });
        await insert.execute({ id: 'p-bad-2', title: undefined } as unknown as NoteTable);
      }),
    ).rejects.toThrow(/"title" is missing/);
    expect(await find.takeFirst({ id: 'p-bad-1' })).toBeUndefined();
  });

  it('refuses a parameter that steers the build instead of being a value', () => {
    const database = current();
    expect(() =>
      database.prepare((db, params: { column: string }) =>
        db
          .selectFrom('note')
          .select('id')
          .where(sql.ref(`${params.column}`), '=', 'x'),
      ),
    ).toThrow(
      new PreparedQueryError(
        'Prepared query: the parameter "column" was turned into a string or a number while the query was built (a template string, ' +
          'a comparison, arithmetic); it has no value then. Pass params.column to the builder as a value (in where, values, set, limit…).',
      ),
    );
    expect(() =>
      database.prepare((db, params: { column: string }) =>
        db
          .selectFrom('note')
          .select('id')
          .where(sql.ref(String(params.column)), '=', 'x'),
      ),
    ).toThrow(PreparedQueryError);
    // A condition in JavaScript on a parameter that is also a value: a comparison is caught even so.
    expect(() =>
      database.prepare((db, params: { limit: number }) => {
        const query = db.selectFrom('note').select('id').limit(params.limit);
        return params.limit > 10 ? query.orderBy('id') : query;
      }),
    ).toThrow(/the parameter "limit" was turned into a string or a number/);
    expect(() => database.prepare((db, params: NoteTable) => db.insertInto('note').values(params))).toThrow(/read each parameter by name/);
  });

  it('refuses a parameter on the right of "in", where a list goes, and takes a list of parameters', async () => {
    const database = current();
    expect(() =>
      database.prepare((db, params: { ids: string[] }) => db.selectFrom('note').select('id').where('id', 'in', params.ids)),
    ).toThrow(/the parameter "ids" is the right-hand side of "in", where a list goes/);
    expect(() =>
      database.prepare((db, params: { ids: string[] }) =>
        db
          .selectFrom('note')
          .select('id')
          .where((eb) => eb.or([eb('title', '=', 'x'), eb('id', 'not in', params.ids)])),
      ),
    ).toThrow(PreparedQueryError);
    const some = database.prepare((db, params: { a: string; b: string }) =>
      db.selectFrom('note').select('id').where('id', 'in', [params.a, params.b]).orderBy('id'),
    );
    const { insert } = prepared(database);
    await insert.execute({ id: 'p-in-1', title: 't', done: false, due_at: null, meta: null, score: null });
    await insert.execute({ id: 'p-in-2', title: 't', done: false, due_at: null, meta: null, score: null });
    expect((await some.execute({ a: 'p-in-2', b: 'p-in-1' })).rows).toEqual([{ id: 'p-in-1' }, { id: 'p-in-2' }]);
  });

  it('types a write without returning as having no rows, and one with returning by its columns', async () => {
    const database = current();
    const { insert, find } = prepared(database);
    expectTypeOf<Awaited<ReturnType<typeof insert.takeFirst>>>().toEqualTypeOf<undefined>();
    expectTypeOf<Awaited<ReturnType<typeof insert.execute>>['rows']>().toEqualTypeOf<never[]>();
    expectTypeOf<Awaited<ReturnType<typeof find.takeFirst>>>().toEqualTypeOf<NoteTable | undefined>();
    const returning = database.prepare((db, params: { id: string }) =>
      db.insertInto('note').values({ id: params.id, title: 'r', done: false, due_at: null, meta: null, score: null }).returning('id'),
    );
    expectTypeOf<Awaited<ReturnType<typeof returning.takeFirst>>>().toEqualTypeOf<{ id: string } | undefined>();
    const removed = database.prepare((db, params: { id: string }) => db.deleteFrom('note').where('id', '=', params.id));
    expectTypeOf<Awaited<ReturnType<typeof removed.execute>>['rows']>().toEqualTypeOf<never[]>();
    const written = await insert.execute({ id: 'p-type-1', title: 't', done: false, due_at: null, meta: null, score: null });
    expect(written.rows).toEqual([]);
    expect(written.numAffectedRows).toBe(1n);
    expect(await returning.takeFirst({ id: 'p-type-2' })).toEqual({ id: 'p-type-2' });
    expect((await removed.execute({ id: 'p-type-2' })).numAffectedRows).toBe(1n);
  });

  it('refuses a query builder of another dialect or with other plugins', async () => {
    const database = current();
    const { find } = prepared(database);
    await expect(find.execute({ id: 'p-1' }, otherDialect(database))).rejects.toThrow(/compiled for another SQL dialect/);
    await expect(
      find.execute(
        { id: 'p-1' },
        database.db.withPlugin({ transformQuery: (args) => args.node, transformResult: async (args) => args.result }),
      ),
    ).rejects.toThrow(/other plugins/);
  });

  it('refuses to run once the database is closed', async () => {
    const used = await openOther();
    const { find: usedFind } = prepared(used);
    await usedFind.execute({ id: 'p-1' });
    await used.withSession(() => usedFind.execute({ id: 'p-1' }));
    await used.close();
    await expect(usedFind.execute({ id: 'p-1' })).rejects.toBeInstanceOf(DatabaseClosedError);
    const unused = await openOther();
    const { find: unusedFind } = prepared(unused);
    await unused.close();
    await expect(unusedFind.execute({ id: 'p-1' })).rejects.toBeInstanceOf(DatabaseClosedError);
  });
}
