import { CamelCasePlugin, type Kysely, type Migration, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig, DatabaseDialect } from '../config/app-config.js';
import { Secret } from '../config/secret.js';
import { maskUrlCredentials } from '../config/urls.js';
import { silentLogger } from '../observability/logger.js';
import { ConnectionLostError } from './connection-lost-error.js';
import { createDatabase, type DatabaseDependencies } from './create-database.js';
import type { Database } from './database.js';
import { DatabaseClosedError } from './database-closed-error.js';
import { preparedQueryContract } from './prepared-query-contract.test-helpers.js';
import { TransactionAbortedError } from './transaction-aborted-error.js';
import { createUsageSink } from './usage-sink.js';

/** The application table the contract suite uses. */
export interface NoteTable {
  id: string;
  title: string;
  done: boolean;
  due_at: Date | null;
  meta: { tags: string[]; nested: { level: number } } | null;
  score: number | null;
}

/** The contract suite's schema. */
export interface ContractTables {
  note: NoteTable;
}

/** The application migrations the suite registers. */
export const CONTRACT_MIGRATIONS: Record<string, Migration> = {
  '001_note': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('note')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('title', 'text', (column) => column.notNull())
        .addColumn('done', 'boolean', (column) => column.notNull().defaultTo(false))
        .addColumn('due_at', 'timestamptz')
        .addColumn('meta', 'jsonb')
        .addColumn('score', 'double precision')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('note').execute();
    },
  },
  '002_note_index': {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('note_due_at_idx').on('note').column('due_at').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('note_due_at_idx').execute();
    },
  },
};

/** A `DatabaseConfig` for a URL, with test-friendly defaults. */
export function databaseConfig(url: string, overrides: Partial<DatabaseConfig> = {}): DatabaseConfig {
  const dialect: DatabaseDialect = url.startsWith('sqlite:') ? 'sqlite' : url.startsWith('pglite:') ? 'pglite' : 'postgres';
  return {
    url: new Secret('DATABASE_URL', url),
    dialect,
    displayUrl: maskUrlCredentials(url),
    embedded: dialect !== 'postgres',
    poolSize: 2,
    maxOverflow: 3,
    acquireTimeoutMs: 5000,
    idleTimeoutMs: 10_000,
    statementTimeoutMs: undefined,
    sslCaPath: undefined,
    closeTimeoutMs: 2000,
    migrateOnStart: false,
    migrationsDir: undefined,
    ...overrides,
  };
}

/** Opens a contract database on `url`. */
export function openContractDatabase(
  url: string,
  overrides: Partial<DatabaseConfig> = {},
  deps: Partial<DatabaseDependencies> = {},
): Promise<Database<ContractTables>> {
  return createDatabase<ContractTables>(databaseConfig(url, overrides), {
    logger: silentLogger(),
    migrations: CONTRACT_MIGRATIONS,
    ...deps,
  });
}

/** How the suite reaches one backend. */
export interface ContractTarget {
  name: string;
  /** The URL of a fresh, empty database for this file (created in `setup`). */
  url(): string;
  /** A second instance on the same database, for concurrent migrators; undefined when the backend has one session (PGlite). */
  shareable: boolean;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

const due = new Date('2031-05-06T07:08:09.123Z');
const meta = { tags: ['a', 'b'], nested: { level: 2 } };

/** The one database contract, run against SQLite, PGlite and PostgreSQL. */
export function runDatabaseContract(target: ContractTarget): void {
  describe(`database contract: ${target.name}`, () => {
    let database: Database<ContractTables>;

    beforeAll(async () => {
      await target.setup?.();
      database = await openContractDatabase(target.url());
    });

    afterAll(async () => {
      await database?.close();
      await target.teardown?.();
    });

    it('migrates Groundwork and the application, concurrently and idempotently', async () => {
      const second = target.shareable ? await openContractDatabase(target.url()) : database;
      try {
        const [first, other] = await Promise.all([database.migrate('up'), second.migrate('up')]);
        const applied = [...first.migrations, ...other.migrations].map((migration) => `${migration.scope}/${migration.name}`).sort();
        expect(applied).toEqual([
          'app/001_note',
          'app/002_note_index',
          'groundwork/0001_llm_usage',
          'groundwork/0002_llm_usage_operation',
          'groundwork/0003_tenants',
          'groundwork/0004_llm_usage_tenant',
          'groundwork/0005_budget_counters',
          'groundwork/0006_jobs',
          'groundwork/0007_llm_usage_deployment',
          'groundwork/0008_llm_usage_hourly',
          'groundwork/0009_llm_usage_content',
          'groundwork/0010_llm_usage_hourly_narrow',
          'groundwork/0011_budget_counter_expiry',
          'groundwork/0012_llm_usage_rollup_calls',
        ]);
      } finally {
        if (second !== database) await second.close();
      }
      expect((await database.migrate('up')).migrations).toEqual([]);
      const status = await database.migrationStatus();
      expect(status.map((state) => [state.scope, state.name, state.executedAt instanceof Date])).toEqual([
        ['groundwork', '0001_llm_usage', true],
        ['groundwork', '0002_llm_usage_operation', true],
        ['groundwork', '0003_tenants', true],
        ['groundwork', '0004_llm_usage_tenant', true],
        ['groundwork', '0005_budget_counters', true],
        ['groundwork', '0006_jobs', true],
        ['groundwork', '0007_llm_usage_deployment', true],
        ['groundwork', '0008_llm_usage_hourly', true],
        ['groundwork', '0009_llm_usage_content', true],
        ['groundwork', '0010_llm_usage_hourly_narrow', true],
        ['groundwork', '0011_budget_counter_expiry', true],
        ['groundwork', '0012_llm_usage_rollup_calls', true],
        ['app', '001_note', true],
        ['app', '002_note_index', true],
      ]);
      expect((await database.migrate('down')).migrations).toEqual([{ scope: 'app', name: '002_note_index' }]);
      expect((await database.migrate('up')).migrations).toEqual([{ scope: 'app', name: '002_note_index' }]);
    });

    it('creates, reads, updates and deletes', async () => {
      const { db } = database;
      await db.insertInto('note').values({ id: 'crud', title: 'first', done: false, due_at: null, meta: null, score: 1.5 }).execute();
      expect(await db.selectFrom('note').select(['title', 'score']).where('id', '=', 'crud').executeTakeFirst()).toEqual({
        title: 'first',
        score: 1.5,
      });
      const updated = await db.updateTable('note').set({ title: 'second' }).where('id', '=', 'crud').executeTakeFirst();
      expect(updated.numUpdatedRows).toBe(1n);
      const returned = await db.deleteFrom('note').where('id', '=', 'crud').returning(['id', 'title']).execute();
      expect(returned).toEqual([{ id: 'crud', title: 'second' }]);
      expect(await db.selectFrom('note').selectAll().where('id', '=', 'crud').execute()).toEqual([]);
    });

    it("keeps the pooled query builder's Kysely features: its own transactions, a held connection, plugins", async () => {
      const { db } = database;
      const row = (id: string) => ({ id, title: id, done: false, due_at: null, meta: null, score: null });
      await db.transaction().execute((trx) => trx.insertInto('note').values(row('kysely-tx')).execute());
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('note').values(row('kysely-tx-undone')).execute();
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      const held = await db
        .connection()
        .execute((connection) => connection.selectFrom('note').select('id').where('id', 'like', 'kysely-tx%').execute());
      expect(held).toEqual([{ id: 'kysely-tx' }]);
      let transformed = 0;
      const plugged = db.withPlugin({
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          transformed++;
          return args.result;
        },
      });
      expect(await plugged.selectFrom('note').select('title').where('id', '=', 'kysely-tx').executeTakeFirst()).toEqual({
        title: 'kysely-tx',
      });
      expect(transformed).toBe(1);
      await db.deleteFrom('note').where('id', '=', 'kysely-tx').execute();
    });

    it('commits a session that resolves', async () => {
      const result = await database.withSession(async (tx) => {
        await tx.insertInto('note').values({ id: 'c1', title: 'one', done: true, due_at: null, meta: null, score: null }).execute();
        await tx.insertInto('note').values({ id: 'c2', title: 'two', done: false, due_at: null, meta: null, score: null }).execute();
        return 'done';
      });
      expect(result).toBe('done');
      const rows = await database.db.selectFrom('note').select('id').where('id', 'in', ['c1', 'c2']).orderBy('id').execute();
      expect(rows.map((row) => row.id)).toEqual(['c1', 'c2']);
    });

    it('rolls back a session that throws, and rethrows the same error', async () => {
      const failure = new Error('business rule broken');
      await expect(
        database.withSession(async (tx) => {
          await tx.insertInto('note').values({ id: 'r1', title: 'gone', done: false, due_at: null, meta: null, score: null }).execute();
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await database.db.selectFrom('note').select('id').where('id', '=', 'r1').execute()).toEqual([]);
      expect(database.poolStats().waiting).toBe(0);
    });

    it('fails a session whose COMMIT fails (a deferred constraint), keeps none of it, and carries on', async () => {
      const suffix = Math.random().toString(36).slice(2, 8);
      const parent = sql.table(`commit_parent_${suffix}`);
      const child = sql.table(`commit_child_${suffix}`);
      await sql`create table ${parent} (id integer primary key)`.execute(database.db);
      await sql`create table ${child} (id integer primary key, parent_id integer not null references ${parent} (id) deferrable initially deferred)`.execute(
        database.db,
      );
      // The statement succeeds; the missing parent is only found at COMMIT.
      const failed = database.withSession(async (tx) => {
        await sql`insert into ${child} (id, parent_id) values (1, 42)`.execute(tx);
        return 'inserted';
      });
      await expect(failed).rejects.toThrow(/foreign key/i);
      expect((await sql`select id from ${child}`.execute(database.db)).rows).toEqual([]);
      expect(database.poolStats().waiting).toBe(0);
      await database.withSession(async (tx) => {
        await sql`insert into ${parent} (id) values (42)`.execute(tx);
        await sql`insert into ${child} (id, parent_id) values (2, 42)`.execute(tx);
      });
      expect((await sql<{ id: number }>`select id from ${child}`.execute(database.db)).rows.map((row) => Number(row.id))).toEqual([2]);
    });

    it('never reports as committed a session whose function caught a failed statement and returned', async () => {
      const suffix = Math.random().toString(36).slice(2, 8);
      const table = sql.table(`aborted_${suffix}`);
      await sql`create table ${table} (id integer primary key)`.execute(database.db);
      const caught = database.withSession(async (tx) => {
        await sql`insert into ${table} (id) values (1)`.execute(tx);
        await sql`insert into ${table} (id) values (1)`.execute(tx).catch(() => undefined);
        return 'done';
      });
      const kept = async () => (await sql<{ id: number }>`select id from ${table}`.execute(database.db)).rows.map((row) => Number(row.id));
      if (target.url().startsWith('sqlite:')) {
        // SQLite undoes only the failed statement; the transaction goes on and commits.
        expect(await caught).toBe('done');
        expect(await kept()).toEqual([1]);
        return;
      }
      // PostgreSQL aborts the whole transaction: its COMMIT rolls back, which must not pass for a commit.
      const error = await caught.catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(TransactionAbortedError);
      expect(error).toMatchObject({
        code: 'db_transaction_aborted',
        message: expect.stringMatching(/rolled back.*statement in it failed/),
      });
      expect(await kept()).toEqual([]);
      // A statement undone by its own nested session leaves the transaction whole.
      await database.withSession(async () => {
        await database.withSession((tx) => sql`insert into ${table} (id) values (2)`.execute(tx));
        await database.withSession((tx) => sql`insert into ${table} (id) values (2)`.execute(tx)).catch(() => undefined);
      });
      expect(await kept()).toEqual([2]);
      await database.withSession((tx) => sql`insert into ${table} (id) values (3)`.execute(tx));
      expect(await kept()).toEqual([2, 3]);
    });

    it('runs nested sessions in savepoints', async () => {
      await database.withSession(async (tx) => {
        await tx.insertInto('note').values({ id: 'n-outer', title: 'outer', done: false, due_at: null, meta: null, score: null }).execute();
        await expect(
          database.withSession(async (inner) => {
            await inner
              .insertInto('note')
              .values({ id: 'n-failed', title: 'x', done: false, due_at: null, meta: null, score: null })
              .execute();
            throw new Error('inner fails');
          }),
        ).rejects.toThrow('inner fails');
        await database.withSession(async (inner) => {
          await inner.insertInto('note').values({ id: 'n-kept', title: 'y', done: false, due_at: null, meta: null, score: null }).execute();
          await database
            .withSession(async (deepest) => {
              await deepest
                .insertInto('note')
                .values({ id: 'n-deep', title: 'z', done: false, due_at: null, meta: null, score: null })
                .execute();
              throw new Error('deepest fails');
            })
            .catch(() => undefined);
        });
        // Siblings started together take turns on the one connection.
        await Promise.all(
          ['n-s1', 'n-s2', 'n-s3'].map((id) =>
            database.withSession((inner) =>
              inner.insertInto('note').values({ id, title: id, done: false, due_at: null, meta: null, score: null }).execute(),
            ),
          ),
        );
      });
      const ids = (await database.db.selectFrom('note').select('id').where('id', 'like', 'n-%').orderBy('id').execute()).map(
        (row) => row.id,
      );
      expect(ids).toEqual(['n-kept', 'n-outer', 'n-s1', 'n-s2', 'n-s3']);
    });

    it('keeps the statements a session ran beside a nested session that failed: they wait for its savepoint', async () => {
      const row = (id: string) => ({ id, title: id, done: false, due_at: null, meta: null, score: null });
      const insertPrepared = database.prepare((db, params: { id: string }) =>
        db.insertInto('note').values({ id: params.id, title: 'prepared', done: false, due_at: null, meta: null, score: null }),
      );
      await database.withSession(async (tx) => {
        await Promise.all([
          (async () => {
            await tx.insertInto('note').values(row('i-p1')).execute();
            // Sent while the nested session's savepoint is open: the query builder, one with a plugin, a prepared query.
            await tx.insertInto('note').values(row('i-p2')).execute();
            await tx.withPlugin(new CamelCasePlugin()).insertInto('note').values(row('i-p3')).execute();
            await insertPrepared.execute({ id: 'i-p4' });
          })(),
          database
            .withSession(async (inner) => {
              await inner.insertInto('note').values(row('i-c1')).execute();
              await inner.insertInto('note').values(row('i-c2')).execute();
              throw new Error('optional step failed');
            })
            .catch(() => undefined),
        ]);
      });
      const ids = (await database.db.selectFrom('note').select('id').where('id', 'like', 'i-%').orderBy('id').execute()).map(
        (found) => found.id,
      );
      expect(ids).toEqual(['i-p1', 'i-p2', 'i-p3', 'i-p4']);
    });

    it("hands a nested session's late statement to its parent, where it waits for the next nested session", async () => {
      const row = (id: string) => ({ id, title: id, done: false, due_at: null, meta: null, score: null });
      let openGate: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      await database.withSession(async (tx) => {
        let late: Promise<unknown> = Promise.resolve();
        await database.withSession(async (inner) => {
          // Left running past the nested session's end (its savepoint released).
          late = gate.then(() => inner.insertInto('note').values(row('k-late')).execute());
          await inner.insertInto('note').values(row('k-first')).execute();
        });
        await database
          .withSession(async (inner) => {
            await inner.insertInto('note').values(row('k-failed')).execute();
            openGate();
            await inner.insertInto('note').values(row('k-failed-2')).execute();
            throw new Error('optional step failed');
          })
          .catch(() => undefined);
        await late;
        await tx.insertInto('note').values(row('k-outer')).execute();
      });
      const ids = (await database.db.selectFrom('note').select('id').where('id', 'like', 'k-%').orderBy('id').execute()).map(
        (found) => found.id,
      );
      expect(ids).toEqual(['k-first', 'k-late', 'k-outer']);
    });

    it('lets a nested session wait for a statement its parent sent before calling it', async () => {
      const row = (id: string) => ({ id, title: id, done: false, due_at: null, meta: null, score: null });
      await database.withSession(async (tx) => {
        const parentInsert = tx.insertInto('note').values(row('j-parent')).execute();
        await database.withSession(async (inner) => {
          await parentInsert;
          await inner.insertInto('note').values(row('j-child')).execute();
        });
      });
      const ids = (await database.db.selectFrom('note').select('id').where('id', 'like', 'j-%').orderBy('id').execute()).map(
        (found) => found.id,
      );
      expect(ids).toEqual(['j-child', 'j-parent']);
    });

    it('maps booleans, dates and JSON identically', async () => {
      await database.withSession(async (tx) => {
        await tx
          .insertInto('note')
          .values([
            { id: 'v1', title: 'yes', done: true, due_at: due, meta, score: 0.25 },
            { id: 'v2', title: 'no', done: false, due_at: new Date(due.getTime() + 1000), meta: null, score: null },
          ])
          .execute();
      });
      const rows = await database.db.selectFrom('note').selectAll().where('id', 'in', ['v1', 'v2']).orderBy('id').execute();
      expect(rows).toEqual([
        { id: 'v1', title: 'yes', done: true, due_at: due, meta, score: 0.25 },
        { id: 'v2', title: 'no', done: false, due_at: new Date(due.getTime() + 1000), meta: null, score: null },
      ]);
      const done = await database.db.selectFrom('note').select('id').where('id', 'in', ['v1', 'v2']).where('done', '=', true).execute();
      expect(done).toEqual([{ id: 'v1' }]);
      const before = await database.db.selectFrom('note').select('id').where('due_at', '<=', due).where('id', 'in', ['v1', 'v2']).execute();
      expect(before).toEqual([{ id: 'v1' }]);
      const returned = await database.db
        .updateTable('note')
        .set({ done: false })
        .where('id', '=', 'v1')
        .returning(['done', 'due_at'])
        .execute();
      expect(returned).toEqual([{ done: false, due_at: due }]);
    });

    it('gives the current session and its connection', async () => {
      expect(database.getDatabaseSession().connectionId).toBe('pool');
      await database.withSession(async (tx) => {
        await tx.insertInto('note').values({ id: 's1', title: 'seen', done: false, due_at: null, meta: null, score: null }).execute();
        const { session, connectionId } = database.getDatabaseSession();
        expect(connectionId).toMatch(/^(sqlite|pglite|pg):\d+$/);
        expect(await session.selectFrom('note').select('id').where('id', '=', 's1').execute()).toEqual([{ id: 's1' }]);
      });
    });

    it('refuses writes in a read-only session and accepts an isolation level', async () => {
      await expect(
        database.withSession(
          (tx) => tx.insertInto('note').values({ id: 'ro', title: 'no', done: false, due_at: null, meta: null, score: null }).execute(),
          { readOnly: true },
        ),
      ).rejects.toThrow();
      const count = await database.withSession((tx) => tx.selectFrom('note').select('id').execute(), { readOnly: true });
      expect(count.length).toBeGreaterThan(0);
      await database.withSession((tx) => tx.selectFrom('note').select('id').execute(), { isolationLevel: 'serializable' });
      await database.db
        .insertInto('note')
        .values({ id: 'after-ro', title: 'ok', done: false, due_at: null, meta: null, score: null })
        .execute();
    });

    it('validates the connection and reports health', async () => {
      const check = await database.validateConnection();
      expect(check.ok).toBe(true);
      expect(check.latencyMs).toBeGreaterThanOrEqual(0);
      const health = await database.healthCheck.check(new AbortController().signal, {});
      expect(health.status).toBe('ok');
      expect(database.healthCheck).toMatchObject({ name: 'database', required: true });
    });

    it('writes usage records through the sink', async () => {
      const sink = createUsageSink(database);
      const createdAt = new Date('2030-01-02T03:04:05.678Z');
      const record = {
        createdAt,
        provider: 'openai' as const,
        model: 'gpt-4o-mini',
        promptName: 'greet',
        promptVersion: '1',
        promptTokens: 10,
        completionTokens: 5,
        totalTokens: 15,
        cachedPromptTokens: 0,
        reasoningTokens: 0,
        costUsd: 0.000123,
        latencyMs: 12.5,
        outcome: 'success',
        cacheHit: true,
        attempts: 1,
        requestId: null,
      };
      await sink.writeBatch([record, { ...record, cacheHit: false, outcome: 'rate_limited', keyId: 'key_1', teamId: 'team_1' }]);
      const attributed = await sql<{ outcome: string; key_id: string | null; team_id: string | null }>`
        select outcome, key_id, team_id from llm_usage order by outcome desc`.execute(database.db);
      expect(attributed.rows).toEqual([
        { outcome: 'success', key_id: null, team_id: null },
        { outcome: 'rate_limited', key_id: 'key_1', team_id: 'team_1' },
      ]);
      const rows = await sql<{ created_at: Date; cache_hit: boolean; cost_usd: number; outcome: string }>`
        select created_at, cache_hit, cost_usd, outcome from llm_usage order by outcome desc`.execute(database.db);
      expect(rows.rows).toEqual([
        { created_at: createdAt, cache_hit: true, cost_usd: 0.000123, outcome: 'success' },
        { created_at: createdAt, cache_hit: false, cost_usd: 0.000123, outcome: 'rate_limited' },
      ]);
    });

    preparedQueryContract(
      () => database,
      async () => {
        const other = await openContractDatabase(target.url());
        if (!target.shareable) await other.migrate('up');
        return other;
      },
    );

    it('waits for a running session on close, then refuses new ones', async () => {
      const other = await openContractDatabase(target.shareable ? target.url() : target.url(), {}, {});
      if (!target.shareable) {
        await other.close();
        return;
      }
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const running = other.withSession(async (tx) => {
        await gate;
        return tx.selectFrom('note').select('id').limit(1).execute();
      });
      await new Promise((resolve) => setImmediate(resolve));
      const closed = other.close();
      await expect(other.withSession(async () => 1)).rejects.toBeInstanceOf(DatabaseClosedError);
      release();
      await expect(running).resolves.toBeDefined();
      await closed;
      expect(other.poolStats().total).toBe(0);
      expect(ConnectionLostError).toBeDefined();
    });

    it('waits on close for a transaction begun with db.transaction(), which commits whole', async () => {
      if (!target.shareable) return;
      const other = await openContractDatabase(target.url(), {}, {});
      const title = `pooled-close-${Date.now()}`;
      const row = (id: string, group: string) => ({ id, title: group, done: false, due_at: null, meta: null, score: null });
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let begun: () => void = () => undefined;
      const inside = new Promise<void>((resolve) => {
        begun = resolve;
      });
      const running = other.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('note')
          .values(row(`${title}-1`, title))
          .execute();
        begun();
        await gate;
        await trx
          .insertInto('note')
          .values(row(`${title}-2`, title))
          .execute();
        return 'committed';
      });
      await inside;
      const closed = other.close();
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await expect(running).resolves.toBe('committed');
      await closed;
      const rows = await database.db.selectFrom('note').select('id').where('title', '=', title).orderBy('id').execute();
      expect(rows.map((found) => found.id)).toEqual([`${title}-1`, `${title}-2`]);
    });
  });
}
