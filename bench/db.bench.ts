import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../src/config/app-config.js';
import { Secret } from '../src/config/secret.js';
import { maskUrlCredentials } from '../src/config/urls.js';
import { createDatabase } from '../src/db/create-database.js';
import { silentLogger } from '../src/observability/logger.js';
import { postgresUrl, uniqueName } from '../test/services.js';
import { type BenchResult, type LatencySummary, measureConcurrent, measureSerial, round } from './harness.js';

interface Tables {
  item: { id: number; name: string; done: boolean };
}

const ITERATIONS = 3000;
const CONCURRENCY = 8;
const POOL_SIZE = 8;

function config(url: string): DatabaseConfig {
  return {
    url: new Secret('DATABASE_URL', url),
    dialect: url.startsWith('sqlite:') ? 'sqlite' : 'postgres',
    displayUrl: maskUrlCredentials(url),
    embedded: url.startsWith('sqlite:'),
    poolSize: POOL_SIZE,
    maxOverflow: 0,
    acquireTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    statementTimeoutMs: undefined,
    sslCaPath: undefined,
    closeTimeoutMs: 1000,
    migrateOnStart: false,
    migrationsDir: undefined,
  };
}

function row(subject: string, summary: LatencySummary): BenchResult['rows'][number] {
  return { subject, ...summary };
}

function ratio(groundwork: LatencySummary, raw: LatencySummary): number {
  return round(groundwork.ops_per_s / raw.ops_per_s);
}

async function benchPostgres(rows: BenchResult['rows'], ratios: BenchResult['ratios']): Promise<void> {
  const name = uniqueName('gw_bench');
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: POOL_SIZE });
  pool.on('error', (error) => console.error(`raw pool: ${error.message}`));
  const database = await createDatabase<Tables>(config(url.toString()), { logger: silentLogger() });
  try {
    await pool.query('create table item (id integer primary key, name text not null, done boolean not null)');
    let next = 0;
    const rawWrite = async (): Promise<void> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query('insert into item (id, name, done) values ($1, $2, $3)', [++next, 'raw', true]);
        await client.query('commit');
      } finally {
        client.release();
      }
    };
    const gwWrite = (): Promise<unknown> =>
      database.withSession((tx) => tx.insertInto('item').values({ id: ++next, name: 'gw', done: true }).execute());
    const rawRead = async (): Promise<void> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query('select id, name, done from item where id = $1', [1 + (next % 1000)]);
        await client.query('commit');
      } finally {
        client.release();
      }
    };
    const gwRead = (): Promise<unknown> =>
      database.withSession((tx) =>
        tx
          .selectFrom('item')
          .select(['id', 'name', 'done'])
          .where('id', '=', 1 + (next % 1000))
          .execute(),
      );
    const rawPointRead = (): Promise<unknown> => pool.query('select id, name, done from item where id = $1', [1 + (next % 1000)]);
    const gwPointRead = (): Promise<unknown> =>
      database.db
        .selectFrom('item')
        .select(['id', 'name', 'done'])
        .where('id', '=', 1 + (next % 1000))
        .execute();

    // Interleave raw and Groundwork rounds so drift on a shared machine hits both alike.
    const options = { iterations: ITERATIONS, concurrency: CONCURRENCY };
    const rawWrites = await measureConcurrent(rawWrite, options);
    const gwWrites = await measureConcurrent(gwWrite, options);
    const rawReads = await measureConcurrent(rawRead, options);
    const gwReads = await measureConcurrent(gwRead, options);
    const rawPoint = await measureConcurrent(rawPointRead, options);
    const gwPoint = await measureConcurrent(gwPointRead, options);
    rows.push(
      row('postgres raw pg: write tx', rawWrites),
      row('postgres withSession: write tx', gwWrites),
      row('postgres raw pg: read tx', rawReads),
      row('postgres withSession: read tx', gwReads),
      row('postgres raw pool.query: point read', rawPoint),
      row('postgres db.selectFrom: point read', gwPoint),
    );
    ratios.ratio_postgres_write_tx = ratio(gwWrites, rawWrites);
    ratios.ratio_postgres_read_tx = ratio(gwReads, rawReads);
    ratios.ratio_postgres_point_read = ratio(gwPoint, rawPoint);
  } finally {
    await database.close();
    await pool.end();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

async function benchSqlite(rows: BenchResult['rows'], ratios: BenchResult['ratios']): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-bench-'));
  const raw = new BetterSqlite(join(directory, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  const database = await createDatabase<Tables>(config(`sqlite:${join(directory, 'gw.db')}`), { logger: silentLogger() });
  try {
    raw.exec('create table item (id integer primary key, name text not null, done boolean not null)');
    await (database.db as Kysely<Tables>).schema
      .createTable('item')
      .addColumn('id', 'integer', (column) => column.primaryKey())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('done', 'boolean', (column) => column.notNull())
      .execute();
    let next = 0;
    const insert = raw.prepare('insert into item (id, name, done) values (?, ?, ?)');
    const select = raw.prepare('select id, name, done from item where id = ?');
    const begin = raw.prepare('begin immediate');
    const beginRead = raw.prepare('begin');
    const commit = raw.prepare('commit');
    // The raw baseline an application would write: the same statements, async like its callers.
    const rawWrite = async (): Promise<void> => {
      begin.run();
      insert.run(++next, 'raw', 1);
      commit.run();
    };
    const gwWrite = (): Promise<unknown> =>
      database.withSession((tx) => tx.insertInto('item').values({ id: ++next, name: 'gw', done: true }).execute());
    const rawRead = async (): Promise<void> => {
      beginRead.run();
      const found = select.get(1 + (next % 1000)) as { done: number } | undefined;
      if (found !== undefined) Boolean(found.done);
      commit.run();
    };
    const gwRead = (): Promise<unknown> =>
      database.withSession((tx) =>
        tx
          .selectFrom('item')
          .select(['id', 'name', 'done'])
          .where('id', '=', 1 + (next % 1000))
          .execute(),
      );
    const rawPointRead = async (): Promise<unknown> => select.get(1 + (next % 1000));
    const gwPointRead = (): Promise<unknown> =>
      database.db
        .selectFrom('item')
        .select(['id', 'name', 'done'])
        .where('id', '=', 1 + (next % 1000))
        .execute();

    const options = { iterations: ITERATIONS };
    const rawWrites = await measureSerial(rawWrite, options);
    const gwWrites = await measureSerial(gwWrite, options);
    const rawReads = await measureSerial(rawRead, options);
    const gwReads = await measureSerial(gwRead, options);
    const rawPoint = await measureSerial(rawPointRead, options);
    const gwPoint = await measureSerial(gwPointRead, options);
    rows.push(
      row('sqlite raw better-sqlite3: write tx', rawWrites),
      row('sqlite withSession: write tx', gwWrites),
      row('sqlite raw better-sqlite3: read tx', rawReads),
      row('sqlite withSession: read tx', gwReads),
      row('sqlite raw stmt.get: point read', rawPoint),
      row('sqlite db.selectFrom: point read', gwPoint),
    );
    ratios.ratio_sqlite_write_tx = ratio(gwWrites, rawWrites);
    ratios.ratio_sqlite_read_tx = ratio(gwReads, rawReads);
    ratios.ratio_sqlite_point_read = ratio(gwPoint, rawPoint);
  } finally {
    await database.close();
    raw.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Small transactional writes and point reads per second: Groundwork against the raw drivers, same run. */
export default async function benchDatabase(): Promise<BenchResult> {
  const rows: BenchResult['rows'] = [];
  const ratios: BenchResult['ratios'] = {};
  await benchPostgres(rows, ratios);
  await benchSqlite(rows, ratios);
  return {
    name: 'db',
    description: `Transactional writes and point reads per second, Groundwork (withSession / db) against raw pg and better-sqlite3 (PostgreSQL: ${CONCURRENCY} callers, pool ${POOL_SIZE}; SQLite: WAL file, one caller).`,
    rows,
    ratios,
  };
}
