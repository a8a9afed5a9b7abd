import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../observability/logger.js';
import { createDatabase } from '../create-database.js';
import type { Database } from '../database.js';
import { DatabaseClosedError } from '../database-closed-error.js';
import { TransactionAbortedError } from '../transaction-aborted-error.js';

/*
 * Some failures make SQLite roll the whole transaction back by itself (`RAISE(ROLLBACK)`,
 * `INSERT OR ROLLBACK`, and per its documentation some FULL, IOERR, BUSY and NOMEM errors). A
 * caller that catches such an error and goes on must not see its later statements run outside
 * the transaction, in autocommit, and be kept although the session fails.
 */
describe('SQLite: a transaction SQLite rolled back by itself', () => {
  let database: Database<unknown>;

  beforeEach(async () => {
    const config = loadConfig({ env: { DATABASE_URL: 'sqlite::memory:' }, envFile: false }).database;
    database = await createDatabase(config, { logger: createLogger({ level: 'silent', format: 'json' }) });
    await sql`create table t (id integer primary key, v text)`.execute(database.db);
    await sql`create table guard (x int)`.execute(database.db);
    await sql`create trigger g before insert on guard begin select raise(rollback, 'guard refused'); end`.execute(database.db);
  });

  afterEach(async () => {
    await database.close();
  });

  const rows = async (): Promise<unknown[]> => (await sql`select id, v from t order by id`.execute(database.db)).rows;

  it('refuses the statements after it and fails the session, keeping nothing', async () => {
    const later: unknown[] = [];
    const outcome = database.withSession(async (tx) => {
      await sql`insert into t (id, v) values (1, 'first')`.execute(tx);
      await expect(sql`insert into guard values (1)`.execute(tx)).rejects.toThrow(/guard refused/);
      await sql`insert into t (id, v) values (2, 'after')`.execute(tx).catch((error: unknown) => later.push(error));
      return 'done';
    });
    await expect(outcome).rejects.toBeInstanceOf(TransactionAbortedError);
    expect(later).toHaveLength(1);
    expect(later[0]).toBeInstanceOf(TransactionAbortedError);
    expect((later[0] as Error).message).toMatch(/SQLite rolled back the transaction/);
    expect(await rows()).toEqual([]);
  });

  it('fails the commit when nothing was sent after it', async () => {
    const outcome = database.withSession(async (tx) => {
      await sql`insert into t (id, v) values (1, 'first')`.execute(tx);
      await sql`insert or rollback into t (id, v) values (1, 'again')`.execute(tx).catch(() => undefined);
    });
    await expect(outcome).rejects.toBeInstanceOf(TransactionAbortedError);
    expect(await rows()).toEqual([]);
    // The connection is usable again, in a transaction of its own.
    await database.withSession(async (tx) => {
      await sql`insert into t (id, v) values (3, 'next')`.execute(tx);
    });
    expect(await rows()).toEqual([{ id: 3, v: 'next' }]);
  });

  it('lets the error that rolled it back fail the session as it is', async () => {
    const outcome = database.withSession(async (tx) => {
      await sql`insert into t (id, v) values (1, 'first')`.execute(tx);
      await sql`insert into guard values (1)`.execute(tx);
    });
    await expect(outcome).rejects.toThrow(/guard refused/);
    expect(await rows()).toEqual([]);
  });

  it('keeps a nested session that failed on an ordinary constraint to itself', async () => {
    await database.withSession(async (tx) => {
      await sql`insert into t (id, v) values (1, 'first')`.execute(tx);
      await expect(
        database.withSession(async (inner) => {
          await sql`insert into t (id, v) values (1, 'duplicate')`.execute(inner);
        }),
      ).rejects.toThrow();
      await sql`insert into t (id, v) values (2, 'second')`.execute(tx);
    });
    expect(await rows()).toEqual([
      { id: 1, v: 'first' },
      { id: 2, v: 'second' },
    ]);
  });

  it('says the database was closed, not rolled back by SQLite, when close() gave up on the session', async () => {
    const config = loadConfig({ env: { DATABASE_URL: 'sqlite::memory:', DB_CLOSE_TIMEOUT_MS: '0' }, envFile: false }).database;
    const closing = await createDatabase(config, { logger: createLogger({ level: 'silent', format: 'json' }) });
    await sql`create table t (id integer primary key)`.execute(closing.db);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let begun: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      begun = resolve;
    });
    const later: unknown[] = [];
    const outcome = closing.withSession(async (tx) => {
      await sql`insert into t (id) values (1)`.execute(tx);
      begun();
      await gate;
      await sql`insert into t (id) values (2)`.execute(tx).catch((error: unknown) => later.push(error));
    });
    await inside;
    await closing.close();
    release();
    await expect(outcome).rejects.toBeInstanceOf(DatabaseClosedError);
    expect(later).toHaveLength(1);
    expect(later[0]).toBeInstanceOf(DatabaseClosedError);
  });
});
