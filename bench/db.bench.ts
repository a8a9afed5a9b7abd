import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import BetterSqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../src/config/app-config.js';
import type * as ConfigEntry from '../src/config/index.js';
import type { Database } from '../src/db/database.js';
import type * as DbEntry from '../src/db/index.js';
import type * as ObservabilityEntry from '../src/observability/index.js';
import { postgresUrl, uniqueName } from '../test/services.js';
import { builtPackage } from './built-package.js';
import { type BenchResult, type LatencySummary, measureConcurrent, measureSerial, round } from './harness.js';

interface Tables {
  item: { id: number; name: string; done: boolean };
}

/**
 * Operations per subject with 8 callers on PostgreSQL, over all rounds: 2,000 a round, so that a
 * round lasts 0.1–0.5 s rather than the 30–60 ms in which one scheduling hiccup moved a round's
 * throughput by up to 2×.
 */
const ITERATIONS = 16_000;
const SERIAL_ITERATIONS = 1600;
const SQLITE_ITERATIONS = 20_000;
const PGLITE_ITERATIONS = 8000;
/** The subjects alternate this many times, so drift on a shared machine hits them all alike. */
const ROUNDS = 8;
/**
 * Rounds of every subject run, interleaved as the measured ones, and discarded before them. V8
 * keeps optimising a path through its first few thousand operations, on background threads whose
 * time counts in the process's CPU: at 8 callers on PostgreSQL a point read's CPU falls from ~5×
 * its steady value to it over ~3,500 operations, for raw pg and the query builder alike, and stays
 * flat with the optimising compilers off (`--no-opt --no-maglev`). Without these rounds the
 * measured ones take in that work, more of it for the subjects with more JavaScript on their path
 * (Kysely's builder and compiler), and compare half-optimised code with optimised code.
 * `GROUNDWORK_BENCH_DB_WARMUP_ROUNDS=0` measures without them, as this benchmark did before.
 */
const WARMUP_ROUNDS = warmupRounds(process.env.GROUNDWORK_BENCH_DB_WARMUP_ROUNDS);
const CONCURRENCY = 8;
const POOL_SIZE = 8;

/** Opens a Groundwork database on a URL with this benchmark's settings. */
type OpenDatabase = (url: string) => Promise<Database<Tables>>;

/**
 * Groundwork as users run it: the built package's `groundwork/db`, `groundwork/config` and
 * `groundwork/observability` entries, which Node loads as they are. The sources through tsx would
 * measure more than users pay: tsx keeps function names, giving every closure bound to a name its
 * name by a call each time it is made, which the raw drivers (plain JavaScript) do not pay.
 */
async function openBuiltDatabase(): Promise<OpenDatabase> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const dist = builtPackage(root, 'the db benchmark measures the built package');
  const entry = (path: string): Promise<unknown> => import(pathToFileURL(join(dist, path)).href);
  const { createDatabase } = (await entry('db/index.js')) as typeof DbEntry;
  const configEntry = (await entry('config/index.js')) as typeof ConfigEntry;
  const { silentLogger } = (await entry('observability/index.js')) as typeof ObservabilityEntry;
  return (url) => createDatabase<Tables>(config(url, configEntry), { logger: silentLogger() });
}

function config(url: string, { Secret, maskUrlCredentials }: typeof ConfigEntry): DatabaseConfig {
  return {
    url: new Secret('DATABASE_URL', url),
    dialect: url.startsWith('sqlite:') ? 'sqlite' : url.startsWith('pglite:') ? 'pglite' : 'postgres',
    displayUrl: maskUrlCredentials(url),
    embedded: url.startsWith('sqlite:') || url.startsWith('pglite:'),
    poolSize: POOL_SIZE,
    maxOverflow: 0,
    acquireTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    statementTimeoutMs: undefined,
    sslCaPath: undefined,
    closeTimeoutMs: 1000,
    migrateOnStart: false,
    migrationsDir: undefined,
    // GROUNDWORK_BENCH_NAMED_BUILDER=true measures the opt-in DB_NAMED_BUILDER_STATEMENTS on PostgreSQL.
    namedBuilderStatements: process.env.GROUNDWORK_BENCH_NAMED_BUILDER === 'true',
  };
}

function warmupRounds(setting: string | undefined): number {
  if (setting === undefined || setting === '') return 5;
  const rounds = Number(setting);
  if (!Number.isInteger(rounds) || rounds < 0) {
    throw new Error(`db bench: GROUNDWORK_BENCH_DB_WARMUP_ROUNDS must be a whole number ≥ 0, not "${setting}"`);
  }
  return rounds;
}

/** A summary with the process's CPU time per operation (user + system, this process only). */
type Measured = LatencySummary & { cpu_us: number };

function row(subject: string, summary: Measured): BenchResult['rows'][number] {
  return { subject, ...summary };
}

function ratio(groundwork: LatencySummary, raw: LatencySummary): number {
  return round(groundwork.ops_per_s / raw.ops_per_s);
}

/** Microseconds Groundwork adds per operation (mean against mean). */
function added(groundwork: LatencySummary, raw: LatencySummary): number {
  return round(groundwork.mean_us - raw.mean_us);
}

/**
 * CPU microseconds Groundwork adds per operation in this process. Unlike latency it does not
 * depend on what else the machine runs, so it is the steadier figure on a shared machine.
 */
function addedCpu(groundwork: Measured, raw: Measured): number {
  return round(groundwork.cpu_us - raw.cpu_us);
}

async function timed(
  measure: (operation: () => Promise<unknown>, first: boolean) => Promise<LatencySummary>,
  operation: () => Promise<unknown>,
  first: boolean,
): Promise<Measured> {
  let calls = 0;
  const counted = (): Promise<unknown> => {
    calls++;
    return operation();
  };
  const before = process.cpuUsage();
  const summary = await measure(counted, first);
  const used = process.cpuUsage(before);
  return { ...summary, cpu_us: round((used.user + used.system) / calls) };
}

/**
 * Measures every subject in {@link ROUNDS} rounds, in turn within each round, after
 * {@link WARMUP_ROUNDS} discarded ones, and sums them up: count, mean and throughput are exact over
 * all measured rounds; p50 and p99 are the medians of the rounds' own percentiles.
 */
async function alternate<const S extends ReadonlyArray<() => Promise<unknown>>>(
  subjects: S,
  measure: (operation: () => Promise<unknown>, first: boolean) => Promise<LatencySummary>,
): Promise<{ [K in keyof S]: Measured }> {
  const rounds: Measured[][] = subjects.map(() => []);
  for (let index = 0; index < WARMUP_ROUNDS; index++) {
    for (const subject of subjects) await measure(subject, index === 0);
  }
  for (let index = 0; index < ROUNDS; index++) {
    for (const [position, subject] of subjects.entries()) {
      rounds[position]?.push(await timed(measure, subject, WARMUP_ROUNDS === 0 && index === 0));
    }
  }
  return rounds.map(combine) as { [K in keyof S]: Measured };
}

function combine(rounds: readonly Measured[]): Measured {
  const count = rounds.reduce((sum, summary) => sum + summary.count, 0);
  const seconds = rounds.reduce((sum, summary) => sum + summary.count / summary.ops_per_s, 0);
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return {
    count,
    p50_us: median(rounds.map((summary) => summary.p50_us)),
    p99_us: median(rounds.map((summary) => summary.p99_us)),
    mean_us: round(rounds.reduce((sum, summary) => sum + summary.mean_us * summary.count, 0) / count),
    ops_per_s: round(count / seconds),
    cpu_us: round(rounds.reduce((sum, summary) => sum + summary.cpu_us * summary.count, 0) / count),
  };
}

/** Rows in each subject's own table before measuring: every read finds one of them. */
const SEEDED = 1000;
/** Fills a subject's table with ids 1..{@link SEEDED}; PostgreSQL, PGlite and SQLite all run it. */
const SEED_SQL = `with recursive seq (n) as (select 1 union all select n + 1 from seq where n < ${SEEDED}) insert into item (id, name, done) select n, 'seed', true from seq`;

/** The ids a run uses: writes go past the seeded rows, reads cycle through them (not one hot row). */
class Ids {
  #next = SEEDED;
  #read = 0;

  write(): number {
    return ++this.#next;
  }

  read(): number {
    return 1 + (this.#read++ % SEEDED);
  }
}

/** How many rows a read subject's result holds (a row array, or an object with `rows`). */
function rowCount(result: unknown): number | undefined {
  if (Array.isArray(result)) return result.length;
  const rows = (result as { rows?: unknown } | undefined)?.rows;
  return Array.isArray(rows) ? rows.length : undefined;
}

/** Runs every read subject once before measuring and fails unless each found exactly one row. */
async function checkReads(reads: Record<string, () => Promise<unknown>>): Promise<void> {
  for (const [subject, read] of Object.entries(reads)) {
    const found = rowCount(await read());
    if (found !== 1) throw new Error(`db bench: the ${subject} read found ${found ?? 'no'} rows instead of 1: is its table seeded?`);
  }
}

/**
 * The query builder's subjects over `db`, for Kysely used directly and for Groundwork alike: a
 * write and a read transaction (run by `transaction`), and a point read outside one.
 */
function builderSubjects(
  db: Kysely<Tables>,
  transaction: (fn: (tx: Kysely<Tables>) => Promise<unknown>) => Promise<unknown>,
  ids: Ids,
  name: string,
  done: boolean,
) {
  const find = (on: Kysely<Tables>): Promise<unknown> =>
    on.selectFrom('item').select(['id', 'name', 'done']).where('id', '=', ids.read()).execute();
  return {
    write: (): Promise<unknown> => transaction((tx) => tx.insertInto('item').values({ id: ids.write(), name, done }).execute()),
    read: (): Promise<unknown> => transaction(find),
    pointRead: (): Promise<unknown> => find(db),
  };
}

/** Groundwork's query-builder subjects: withSession for transactions, the pool's builder for point reads. */
function groundworkSubjects(database: Database<Tables>, ids: Ids) {
  return builderSubjects(database.db as Kysely<Tables>, (fn) => database.withSession(fn), ids, 'gw', true);
}

/**
 * The prepared form of the benchmark's statements: built and compiled once, run with new values
 * at each call (in the current session: the transaction inside withSession, the pool outside).
 */
function preparedSubjects(database: Database<Tables>, ids: Ids) {
  const insert = database.prepare((db, params: { id: number; name: string }) =>
    db.insertInto('item').values({ id: params.id, name: params.name, done: true }),
  );
  const find = database.prepare((db, params: { id: number }) =>
    db.selectFrom('item').select(['id', 'name', 'done']).where('id', '=', params.id),
  );
  return {
    write: (): Promise<unknown> => database.withSession(() => insert.execute({ id: ids.write(), name: 'gw' })),
    read: (): Promise<unknown> => database.withSession(() => find.execute({ id: ids.read() })),
    pointRead: (): Promise<unknown> => find.execute({ id: ids.read() }),
  };
}

async function benchPostgres(open: OpenDatabase, rows: BenchResult['rows'], ratios: BenchResult['ratios']): Promise<void> {
  const name = uniqueName('gw_bench');
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: POOL_SIZE });
  pool.on('error', (error) => console.error(`raw pool: ${error.message}`));
  const database = await open(url.toString());
  // Kysely used directly over its own pg pool, what an application would otherwise write: what
  // Kysely itself costs any of its users, apart from what Groundwork adds.
  const kyselyPool = new pg.Pool({ connectionString: url.toString(), max: POOL_SIZE });
  kyselyPool.on('error', (error) => console.error(`Kysely pool: ${error.message}`));
  const kysely = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: kyselyPool }) });
  try {
    await pool.query('create table item (id integer primary key, name text not null, done boolean not null)');
    // One table for every subject here: seeded once.
    await pool.query(SEED_SQL);
    const ids = new Ids();
    const rawWrite = async (): Promise<void> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query('insert into item (id, name, done) values ($1, $2, $3)', [ids.write(), 'raw', true]);
        await client.query('commit');
      } finally {
        client.release();
      }
    };
    const rawRead = async (): Promise<unknown> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await client.query('select id, name, done from item where id = $1', [ids.read()]);
        await client.query('commit');
        return result;
      } finally {
        client.release();
      }
    };
    const rawPointRead = (): Promise<unknown> => pool.query('select id, name, done from item where id = $1', [ids.read()]);
    const { write: gwWrite, read: gwRead, pointRead: gwPointRead } = groundworkSubjects(database, ids);
    const { write: preparedWrite, read: preparedRead, pointRead: preparedPointRead } = preparedSubjects(database, ids);
    // Raw pg with named statements, as the prepared form sends them: the server parses and plans once per connection.
    const insertNamed = { name: 'bench_insert', text: 'insert into item (id, name, done) values ($1, $2, $3)' };
    const selectNamed = { name: 'bench_select', text: 'select id, name, done from item where id = $1' };
    const namedWrite = async (): Promise<void> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query({ ...insertNamed, values: [ids.write(), 'raw', true] });
        await client.query('commit');
      } finally {
        client.release();
      }
    };
    const namedRead = async (): Promise<unknown> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await client.query({ ...selectNamed, values: [ids.read()] });
        await client.query('commit');
        return result;
      } finally {
        client.release();
      }
    };
    const namedPointRead = (): Promise<unknown> => pool.query({ ...selectNamed, values: [ids.read()] });
    const {
      write: kyWrite,
      read: kyRead,
      pointRead: kyPointRead,
    } = builderSubjects(kysely, (fn) => kysely.transaction().execute(fn), ids, 'ky', true);
    await checkReads({
      rawRead,
      gwRead,
      namedRead,
      preparedRead,
      kyRead,
      rawPointRead,
      gwPointRead,
      namedPointRead,
      preparedPointRead,
      kyPointRead,
    });

    const measure = (operation: () => Promise<unknown>, first: boolean): Promise<LatencySummary> =>
      measureConcurrent(operation, { iterations: ITERATIONS / ROUNDS, concurrency: CONCURRENCY, warmup: first ? 200 : 20 });
    const [rawWrites, gwWrites, nWrites, pWrites, kyWrites] = await alternate(
      [rawWrite, gwWrite, namedWrite, preparedWrite, kyWrite],
      measure,
    );
    const [rawReads, gwReads, nReads, pReads, kyReads] = await alternate([rawRead, gwRead, namedRead, preparedRead, kyRead], measure);
    const [rawPoint, gwPoint, nPoint, pPoint, kyPoint] = await alternate(
      [rawPointRead, gwPointRead, namedPointRead, preparedPointRead, kyPointRead],
      measure,
    );
    // One caller: each operation's latency, where round trips count rather than CPU throughput.
    const serial = (operation: () => Promise<unknown>, first: boolean): Promise<LatencySummary> =>
      measureSerial(operation, { iterations: SERIAL_ITERATIONS / ROUNDS, warmup: first ? 100 : 10 });
    const [rawSerialWrites, gwSerialWrites, nSerialWrites, pSerialWrites] = await alternate(
      [rawWrite, gwWrite, namedWrite, preparedWrite],
      serial,
    );
    const [rawSerialReads, gwSerialReads, nSerialReads, pSerialReads] = await alternate([rawRead, gwRead, namedRead, preparedRead], serial);
    const [rawSerialPoint, gwSerialPoint, nSerialPoint, pSerialPoint] = await alternate(
      [rawPointRead, gwPointRead, namedPointRead, preparedPointRead],
      serial,
    );
    rows.push(
      row('postgres raw pg, 1 caller: write tx', rawSerialWrites),
      row('postgres withSession + builder, 1 caller: write tx', gwSerialWrites),
      row('postgres raw pg named statements, 1 caller: write tx', nSerialWrites),
      row('postgres withSession + prepared, 1 caller: write tx', pSerialWrites),
      row('postgres raw pg, 1 caller: read tx', rawSerialReads),
      row('postgres withSession + builder, 1 caller: read tx', gwSerialReads),
      row('postgres raw pg named statements, 1 caller: read tx', nSerialReads),
      row('postgres withSession + prepared, 1 caller: read tx', pSerialReads),
      row('postgres raw pool.query, 1 caller: point read', rawSerialPoint),
      row('postgres db.selectFrom, 1 caller: point read', gwSerialPoint),
      row('postgres raw pool.query named, 1 caller: point read', nSerialPoint),
      row('postgres prepared, 1 caller: point read', pSerialPoint),
    );
    ratios.ratio_postgres_write_tx_1_caller = ratio(gwSerialWrites, rawSerialWrites);
    ratios.ratio_postgres_read_tx_1_caller = ratio(gwSerialReads, rawSerialReads);
    ratios.ratio_postgres_point_read_1_caller = ratio(gwSerialPoint, rawSerialPoint);
    ratios.ratio_postgres_write_tx_1_caller_prepared = ratio(pSerialWrites, rawSerialWrites);
    ratios.ratio_postgres_read_tx_1_caller_prepared = ratio(pSerialReads, rawSerialReads);
    ratios.ratio_postgres_point_read_1_caller_prepared = ratio(pSerialPoint, rawSerialPoint);
    ratios.ratio_postgres_write_tx_1_caller_prepared_to_named = ratio(pSerialWrites, nSerialWrites);
    ratios.ratio_postgres_read_tx_1_caller_prepared_to_named = ratio(pSerialReads, nSerialReads);
    ratios.ratio_postgres_point_read_1_caller_prepared_to_named = ratio(pSerialPoint, nSerialPoint);
    rows.push(
      row('postgres raw pg: write tx', rawWrites),
      row('postgres withSession + builder: write tx', gwWrites),
      row('postgres raw pg named statements: write tx', nWrites),
      row('postgres withSession + prepared: write tx', pWrites),
      row('postgres raw pg: read tx', rawReads),
      row('postgres withSession + builder: read tx', gwReads),
      row('postgres raw pg named statements: read tx', nReads),
      row('postgres withSession + prepared: read tx', pReads),
      row('postgres raw pool.query: point read', rawPoint),
      row('postgres db.selectFrom: point read', gwPoint),
      row('postgres raw pool.query named: point read', nPoint),
      row('postgres prepared: point read', pPoint),
      row('postgres Kysely direct: write tx', kyWrites),
      row('postgres Kysely direct: read tx', kyReads),
      row('postgres Kysely direct: point read', kyPoint),
    );
    // The query builder against Kysely used directly: what Groundwork adds beyond Kysely's own cost.
    ratios.ratio_postgres_write_tx_to_kysely = ratio(gwWrites, kyWrites);
    ratios.ratio_postgres_read_tx_to_kysely = ratio(gwReads, kyReads);
    ratios.ratio_postgres_point_read_to_kysely = ratio(gwPoint, kyPoint);
    ratios.ratio_postgres_write_tx_kysely_to_raw = ratio(kyWrites, rawWrites);
    ratios.ratio_postgres_read_tx_kysely_to_raw = ratio(kyReads, rawReads);
    ratios.ratio_postgres_point_read_kysely_to_raw = ratio(kyPoint, rawPoint);
    ratios.added_cpu_us_postgres_write_tx_to_kysely = addedCpu(gwWrites, kyWrites);
    ratios.added_cpu_us_postgres_read_tx_to_kysely = addedCpu(gwReads, kyReads);
    ratios.added_cpu_us_postgres_point_read_to_kysely = addedCpu(gwPoint, kyPoint);
    ratios.ratio_postgres_write_tx = ratio(gwWrites, rawWrites);
    ratios.ratio_postgres_read_tx = ratio(gwReads, rawReads);
    ratios.ratio_postgres_point_read = ratio(gwPoint, rawPoint);
    ratios.ratio_postgres_write_tx_prepared = ratio(pWrites, rawWrites);
    ratios.ratio_postgres_read_tx_prepared = ratio(pReads, rawReads);
    ratios.ratio_postgres_point_read_prepared = ratio(pPoint, rawPoint);
    ratios.ratio_postgres_write_tx_prepared_to_named = ratio(pWrites, nWrites);
    ratios.ratio_postgres_read_tx_prepared_to_named = ratio(pReads, nReads);
    ratios.ratio_postgres_point_read_prepared_to_named = ratio(pPoint, nPoint);
    ratios.added_us_postgres_write_tx = added(gwWrites, rawWrites);
    ratios.added_cpu_us_postgres_write_tx = addedCpu(gwWrites, rawWrites);
    ratios.added_cpu_us_postgres_write_tx_prepared = addedCpu(pWrites, rawWrites);
    ratios.added_us_postgres_read_tx = added(gwReads, rawReads);
    ratios.added_cpu_us_postgres_read_tx = addedCpu(gwReads, rawReads);
    ratios.added_cpu_us_postgres_read_tx_prepared = addedCpu(pReads, rawReads);
    ratios.added_us_postgres_point_read = added(gwPoint, rawPoint);
    ratios.added_cpu_us_postgres_point_read = addedCpu(gwPoint, rawPoint);
    ratios.added_cpu_us_postgres_point_read_prepared = addedCpu(pPoint, rawPoint);
    ratios.added_cpu_us_postgres_write_tx_prepared_to_named = addedCpu(pWrites, nWrites);
    ratios.added_cpu_us_postgres_read_tx_prepared_to_named = addedCpu(pReads, nReads);
    ratios.added_cpu_us_postgres_point_read_prepared_to_named = addedCpu(pPoint, nPoint);
  } finally {
    await database.close();
    await kysely.destroy();
    await pool.end();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

async function benchPglite(open: OpenDatabase, rows: BenchResult['rows'], ratios: BenchResult['ratios']): Promise<void> {
  const raw = new PGlite();
  await raw.waitReady;
  const database = await open('pglite:memory');
  // The prepared subjects' own database: each database takes one subject's writes, so every read finds a table of the same size.
  const preparedDatabase = await open('pglite:memory');
  try {
    const create = 'create table item (id integer primary key, name text not null, done boolean not null)';
    await raw.query(create);
    // Three databases: each subject's table holds the rows its reads find.
    await raw.query(SEED_SQL);
    for (const own of [database, preparedDatabase]) {
      await sql.raw(create).execute(own.db);
      await sql.raw(SEED_SQL).execute(own.db);
    }
    const ids = new Ids();
    // PGlite runs one statement at a time: its callers, like withSession, queue for it.
    const rawWrite = async (): Promise<void> => {
      await raw.transaction(async (tx) => {
        await tx.query('insert into item (id, name, done) values ($1, $2, $3)', [ids.write(), 'raw', true]);
      });
    };
    const rawRead = (): Promise<unknown> =>
      raw.transaction((tx) => tx.query('select id, name, done from item where id = $1', [ids.read()]));
    const rawPointRead = (): Promise<unknown> => raw.query('select id, name, done from item where id = $1', [ids.read()]);
    const { write: gwWrite, read: gwRead, pointRead: gwPointRead } = groundworkSubjects(database, ids);
    const { write: preparedWrite, read: preparedRead, pointRead: preparedPointRead } = preparedSubjects(preparedDatabase, ids);
    await checkReads({ rawRead, gwRead, preparedRead, rawPointRead, gwPointRead, preparedPointRead });
    const measure = (operation: () => Promise<unknown>, first: boolean): Promise<LatencySummary> =>
      measureSerial(operation, { iterations: PGLITE_ITERATIONS / ROUNDS, warmup: first ? 500 : 50 });
    const [rawWrites, gwWrites, pWrites] = await alternate([rawWrite, gwWrite, preparedWrite], measure);
    const [rawReads, gwReads, pReads] = await alternate([rawRead, gwRead, preparedRead], measure);
    const [rawPoint, gwPoint, pPoint] = await alternate([rawPointRead, gwPointRead, preparedPointRead], measure);
    rows.push(
      row('pglite raw transaction(): write tx', rawWrites),
      row('pglite withSession + builder: write tx', gwWrites),
      row('pglite withSession + prepared: write tx', pWrites),
      row('pglite raw transaction(): read tx', rawReads),
      row('pglite withSession + builder: read tx', gwReads),
      row('pglite withSession + prepared: read tx', pReads),
      row('pglite raw query: point read', rawPoint),
      row('pglite db.selectFrom: point read', gwPoint),
      row('pglite prepared: point read', pPoint),
    );
    ratios.ratio_pglite_write_tx = ratio(gwWrites, rawWrites);
    ratios.ratio_pglite_read_tx = ratio(gwReads, rawReads);
    ratios.ratio_pglite_point_read = ratio(gwPoint, rawPoint);
    ratios.ratio_pglite_write_tx_prepared = ratio(pWrites, rawWrites);
    ratios.ratio_pglite_read_tx_prepared = ratio(pReads, rawReads);
    ratios.ratio_pglite_point_read_prepared = ratio(pPoint, rawPoint);
    ratios.added_cpu_us_pglite_write_tx = addedCpu(gwWrites, rawWrites);
    ratios.added_cpu_us_pglite_read_tx = addedCpu(gwReads, rawReads);
    ratios.added_cpu_us_pglite_point_read = addedCpu(gwPoint, rawPoint);
    ratios.added_cpu_us_pglite_write_tx_prepared = addedCpu(pWrites, rawWrites);
    ratios.added_cpu_us_pglite_read_tx_prepared = addedCpu(pReads, rawReads);
    ratios.added_cpu_us_pglite_point_read_prepared = addedCpu(pPoint, rawPoint);
  } finally {
    await database.close();
    await preparedDatabase.close();
    await raw.close();
  }
}

async function benchSqlite(open: OpenDatabase, rows: BenchResult['rows'], ratios: BenchResult['ratios']): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-bench-'));
  const raw = new BetterSqlite(join(directory, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  // Kysely used directly over better-sqlite3, what an application would otherwise write.
  const kyselyClient = new BetterSqlite(join(directory, 'kysely.db'));
  kyselyClient.pragma('journal_mode = WAL');
  const kysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: kyselyClient }) });
  const database = await open(`sqlite:${join(directory, 'gw.db')}`);
  // The prepared subjects' own database: each database takes one subject's writes, so every read finds a table of the same size.
  const preparedDatabase = await open(`sqlite:${join(directory, 'gw-prepared.db')}`);
  try {
    raw.exec('create table item (id integer primary key, name text not null, done boolean not null)');
    kyselyClient.exec('create table item (id integer primary key, name text not null, done boolean not null)');
    // Four databases: each subject's table holds the rows its reads find.
    raw.exec(SEED_SQL);
    kyselyClient.exec(SEED_SQL);
    for (const own of [database, preparedDatabase]) {
      await (own.db as Kysely<Tables>).schema
        .createTable('item')
        .addColumn('id', 'integer', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('done', 'boolean', (column) => column.notNull())
        .execute();
      await sql.raw(SEED_SQL).execute(own.db);
    }
    const ids = new Ids();
    const insert = raw.prepare('insert into item (id, name, done) values (?, ?, ?)');
    const select = raw.prepare('select id, name, done from item where id = ?');
    // What an application would write on better-sqlite3 itself: its transaction helper (BEGIN
    // IMMEDIATE, as withSession begins), `all()` as Kysely's `execute()`, `done` read back as a
    // boolean as Groundwork maps it; async like its callers.
    const selectMapped = (id: number): unknown[] => {
      const rows = select.all(id) as Array<{ done: unknown }>;
      for (const found of rows) found.done = found.done === 1;
      return rows;
    };
    const writeTx = raw.transaction((id: number) => insert.run(id, 'raw', 1));
    const readTx = raw.transaction(selectMapped);
    const rawWrite = async (): Promise<void> => {
      writeTx.immediate(ids.write());
    };
    const rawRead = async (): Promise<unknown> => readTx.immediate(ids.read());
    const rawPointRead = async (): Promise<unknown> => selectMapped(ids.read());
    const { write: gwWrite, read: gwRead, pointRead: gwPointRead } = groundworkSubjects(database, ids);
    // Kysely's own transaction API begins DEFERRED; `begin immediate` as withSession begins is
    // not available through it, so its write transactions do a little less locking work.
    // better-sqlite3 binds no booleans: without Groundwork's value mapping the application writes 1.
    const {
      write: kyWrite,
      read: kyRead,
      pointRead: kyPointRead,
    } = builderSubjects(kysely, (fn) => kysely.transaction().execute(fn), ids, 'ky', 1 as unknown as boolean);
    const { write: preparedWrite, read: preparedRead, pointRead: preparedPointRead } = preparedSubjects(preparedDatabase, ids);
    await checkReads({ rawRead, kyRead, gwRead, preparedRead, rawPointRead, kyPointRead, gwPointRead, preparedPointRead });
    const measure = (operation: () => Promise<unknown>, first: boolean): Promise<LatencySummary> =>
      measureSerial(operation, { iterations: SQLITE_ITERATIONS / ROUNDS, warmup: first ? 2000 : 200 });
    const [rawWrites, kyWrites, gwWrites, pWrites] = await alternate([rawWrite, kyWrite, gwWrite, preparedWrite], measure);
    const [rawReads, kyReads, gwReads, pReads] = await alternate([rawRead, kyRead, gwRead, preparedRead], measure);
    const [rawPoint, kyPoint, gwPoint, pPoint] = await alternate([rawPointRead, kyPointRead, gwPointRead, preparedPointRead], measure);
    rows.push(
      row('sqlite raw better-sqlite3: write tx', rawWrites),
      row('sqlite Kysely direct: write tx', kyWrites),
      row('sqlite withSession + builder: write tx', gwWrites),
      row('sqlite withSession + prepared: write tx', pWrites),
      row('sqlite raw better-sqlite3: read tx', rawReads),
      row('sqlite Kysely direct: read tx', kyReads),
      row('sqlite withSession + builder: read tx', gwReads),
      row('sqlite withSession + prepared: read tx', pReads),
      row('sqlite raw stmt.all: point read', rawPoint),
      row('sqlite Kysely direct: point read', kyPoint),
      row('sqlite db.selectFrom: point read', gwPoint),
      row('sqlite prepared: point read', pPoint),
    );
    ratios.ratio_sqlite_write_tx_to_kysely = ratio(gwWrites, kyWrites);
    ratios.ratio_sqlite_read_tx_to_kysely = ratio(gwReads, kyReads);
    ratios.ratio_sqlite_point_read_to_kysely = ratio(gwPoint, kyPoint);
    ratios.ratio_sqlite_write_tx_to_kysely_prepared = ratio(pWrites, kyWrites);
    ratios.ratio_sqlite_read_tx_to_kysely_prepared = ratio(pReads, kyReads);
    ratios.ratio_sqlite_point_read_to_kysely_prepared = ratio(pPoint, kyPoint);
    ratios.ratio_sqlite_write_tx = ratio(gwWrites, rawWrites);
    ratios.ratio_sqlite_read_tx = ratio(gwReads, rawReads);
    ratios.ratio_sqlite_point_read = ratio(gwPoint, rawPoint);
    ratios.ratio_sqlite_write_tx_prepared = ratio(pWrites, rawWrites);
    ratios.ratio_sqlite_read_tx_prepared = ratio(pReads, rawReads);
    ratios.ratio_sqlite_point_read_prepared = ratio(pPoint, rawPoint);
    ratios.added_us_sqlite_write_tx = added(gwWrites, rawWrites);
    ratios.added_cpu_us_sqlite_write_tx = addedCpu(gwWrites, rawWrites);
    ratios.added_cpu_us_sqlite_write_tx_prepared = addedCpu(pWrites, rawWrites);
    ratios.added_us_sqlite_read_tx = added(gwReads, rawReads);
    ratios.added_cpu_us_sqlite_read_tx = addedCpu(gwReads, rawReads);
    ratios.added_cpu_us_sqlite_read_tx_prepared = addedCpu(pReads, rawReads);
    ratios.added_us_sqlite_point_read = added(gwPoint, rawPoint);
    ratios.added_cpu_us_sqlite_point_read = addedCpu(gwPoint, rawPoint);
    ratios.added_cpu_us_sqlite_point_read_prepared = addedCpu(pPoint, rawPoint);
  } finally {
    await database.close();
    await preparedDatabase.close();
    await kysely.destroy();
    raw.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * The sessions goal, judged from the ratios of this run: write, read and point-read transactions at
 * ≥ 0.9 of the raw driver on PostgreSQL (8 callers) and PGlite, and on SQLite of Kysely used directly,
 * for each form Groundwork offers (the query builder, and prepared queries).
 */
function judgeGoals(ratios: BenchResult['ratios']): void {
  const GOAL = 0.9;
  const cases: Array<[string, string]> = [];
  for (const kind of ['write_tx', 'read_tx', 'point_read']) {
    cases.push([`postgres_${kind}`, `ratio_postgres_${kind}`], [`postgres_${kind}_prepared`, `ratio_postgres_${kind}_prepared`]);
    cases.push([`pglite_${kind}`, `ratio_pglite_${kind}`], [`pglite_${kind}_prepared`, `ratio_pglite_${kind}_prepared`]);
    cases.push([`sqlite_${kind}_to_kysely`, `ratio_sqlite_${kind}_to_kysely`]);
    cases.push([`sqlite_${kind}_to_kysely_prepared`, `ratio_sqlite_${kind}_to_kysely_prepared`]);
  }
  for (const [goal, key] of cases) {
    const value = ratios[key];
    if (typeof value !== 'number') continue;
    ratios[`goal_${goal}_at_least_0_9`] = value >= GOAL ? 'met' : 'not met';
  }
  ratios.load_average = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  ratios.warmup_rounds = WARMUP_ROUNDS;
  ratios.named_builder_statements = process.env.GROUNDWORK_BENCH_NAMED_BUILDER === 'true' ? 'on' : 'off (the default)';
}

/** Small transactional writes and point reads per second: Groundwork against the raw drivers, same run. */
export default async function benchDatabase(): Promise<BenchResult> {
  const rows: BenchResult['rows'] = [];
  const ratios: BenchResult['ratios'] = {};
  const only = process.env.GROUNDWORK_BENCH_DB?.split(',');
  const open = await openBuiltDatabase();
  if (only === undefined || only.includes('postgres')) await benchPostgres(open, rows, ratios);
  if (only === undefined || only.includes('pglite')) await benchPglite(open, rows, ratios);
  if (only === undefined || only.includes('sqlite')) await benchSqlite(open, rows, ratios);
  judgeGoals(ratios);
  return {
    name: 'db',
    description: `Transactional writes, read transactions and point reads per second: Groundwork (the built package, dist/) against the raw drivers (pg, PGlite, better-sqlite3) with the same statements, and against Kysely used directly (over better-sqlite3 on SQLite, over its own pg pool on PostgreSQL, 8 callers). Groundwork in two forms: the query builder (withSession + tx.insertInto/selectFrom, db.selectFrom) and prepared queries (database.prepare, executed in the session). On PostgreSQL the prepared form sends named statements, so raw pg runs both unnamed (pg's default) and named ones. PostgreSQL: ${CONCURRENCY} callers on a pool of ${POOL_SIZE} for every subject, and one caller for latency; PGlite: in memory, one caller; SQLite: WAL file, one caller; ${ROUNDS} interleaved rounds of every subject, after ${WARMUP_ROUNDS} discarded ones (V8 optimises each path over its first few thousand operations). added_us / added_cpu_us = mean latency / this process's CPU µs Groundwork adds per operation.`,
    rows,
    ratios,
  };
}
