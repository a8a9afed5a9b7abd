import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../observability/logger.js';
import { createDatabase } from './create-database.js';
import type { Database } from './database.js';

let database: Database<unknown> | undefined;

afterEach(async () => {
  await database?.close();
  database = undefined;
});

async function open(): Promise<Database<unknown>> {
  const config = loadConfig({ env: { DATABASE_URL: 'sqlite::memory:' }, envFile: false }).database;
  database = await createDatabase(config, { logger: createLogger({ level: 'silent', format: 'json' }) });
  await sql`create table t (id integer primary key)`.execute(database.db);
  return database;
}

describe('close() and db.transaction()', () => {
  it('waits for a transaction that had not begun yet when close() was called', async () => {
    const db = await open();
    const running = db.db.transaction().execute(async (trx) => {
      await sql`insert into t (id) values (1)`.execute(trx);
      await sql`insert into t (id) values (2)`.execute(trx);
      return 'committed';
    });
    const closed = db.close();
    await expect(running).resolves.toBe('committed');
    await closed;
  });

  it('waits for db.startTransaction() until it commits, begun with a plugin or not', async () => {
    const db = await open();
    const controlled = db.db.startTransaction().execute();
    const closed = db.close();
    const trx = await controlled;
    await sql`insert into t (id) values (1)`.execute(trx);
    await trx.commit().execute();
    await closed;
    const other = await open();
    const plugged = other.db.withPlugin({ transformQuery: (args) => args.node, transformResult: async (args) => args.result });
    const running = plugged.transaction().execute(async (trx) => {
      await sql`insert into t (id) values (1)`.execute(trx);
      return 'committed';
    });
    const closing = other.close();
    await expect(running).resolves.toBe('committed');
    await closing;
  });
});
