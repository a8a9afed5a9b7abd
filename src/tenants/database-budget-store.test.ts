import { randomUUID } from 'node:crypto';
import { type Kysely, type KyselyPlugin, PostgresQueryCompiler, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { Logger } from '../observability/logger.js';
import { counterExpiresAt } from './budget-limits.js';
import { budgetStoreContract } from './budget-store.cases.js';
import { SETTLED_MARKER_MS } from './budget-store.js';
import { DatabaseBudgetStore, MAX_SWEEP_BATCH } from './database-budget-store.js';
import { ledgerSpend } from './ledger-spend.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from './tenant-databases.test-helpers.js';

const t0 = 1_800_000_000_000;

describe.each(TENANT_DATABASE_TARGETS)('on $name', (target) => {
  /** Registers a test on PostgreSQL only: it waits on row locks the other databases do not take. */
  const onPostgres = (name: string, body: () => Promise<void>): void => {
    if (target.name === 'PostgreSQL') it(name, body);
  };
  /** Registers a test on SQLite only: its limit on a statement's parameters is the lowest. */
  const onSqlite = (name: string, body: () => Promise<void>): void => {
    if (target.name === 'SQLite') it(name, body);
  };
  /** Registers a test where the store takes its locks with a query (PostgreSQL and PGlite; SQLite locks with BEGIN IMMEDIATE). */
  const withLockQuery = (name: string, body: () => Promise<void>): void => {
    if (target.name !== 'SQLite') it(name, body);
  };
  /** Makes the database refuse to delete `counter` (a trigger named after `run`); resolves with what drops the trigger. */
  const refuseDeleting = async (db: Kysely<GroundworkTables>, counter: string, run: string): Promise<() => Promise<void>> => {
    const sqlite = target.name === 'SQLite';
    if (sqlite) {
      await sql
        .raw(
          `CREATE TRIGGER refuse_${run} BEFORE DELETE ON groundwork_budget_counters WHEN old.counter = '${counter}' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
        )
        .execute(db);
    } else {
      await sql
        .raw(
          `CREATE FUNCTION refuse_${run}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF old.counter = '${counter}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN old; END $$`,
        )
        .execute(db);
      await sql
        .raw(`CREATE TRIGGER refuse_${run} BEFORE DELETE ON groundwork_budget_counters FOR EACH ROW EXECUTE FUNCTION refuse_${run}()`)
        .execute(db);
    }
    return async () => {
      await sql.raw(`DROP TRIGGER IF EXISTS refuse_${run}${sqlite ? '' : ' ON groundwork_budget_counters'}`).execute(db);
      if (!sqlite) await sql.raw(`DROP FUNCTION IF EXISTS refuse_${run}()`).execute(db);
    };
  };
  /** Compiled SQL of every statement a store sends through the returned database (neither BEGIN nor COMMIT). */
  const recorded = (): { db: Kysely<GroundworkTables>; statements: string[] } => {
    const statements: string[] = [];
    const compiler = new PostgresQueryCompiler();
    const recording: KyselyPlugin = {
      transformQuery: ({ node, queryId }) => {
        statements.push(compiler.compileQuery(node, queryId).sql);
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    return { db: opened.database.db.withPlugin(recording), statements };
  };
  let opened: TenantDatabase;
  let other: Database<GroundworkTables>;

  beforeAll(async () => {
    opened = await target.open();
    other = (await opened.reopen?.()) ?? opened.database;
  });

  afterAll(async () => {
    if (other !== opened?.database) await other?.close();
    await opened?.close();
  });

  budgetStoreContract(target.name, () => ({
    store: new DatabaseBudgetStore(opened.database.db),
    other: new DatabaseBudgetStore(other.db),
  }));

  const rowsUnder = async (counter: string) =>
    opened.database.db.selectFrom('groundwork_budget_reservations').select(['id', 'amount_nano']).where('counter', '=', counter).execute();

  describe('settlement markers', () => {
    const settleCalls = async (store: DatabaseBudgetStore, key: string, calls: number, now: number) => {
      for (let call = 0; call < calls; call++) {
        const reservationId = randomUUID();
        const granted = await store.reserve({
          reservationId,
          budgets: [{ counter: key, limitNano: 1_000_000, expiresAt: undefined }],
          amountNano: 10,
          leaseUntil: now + 60_000,
          now,
        });
        expect(granted.granted).toBe(true);
        await store.settle(reservationId, [key], 5, now);
      }
    };

    it('leaves no row under the counter a reserve sums once its calls are settled', async () => {
      const store = new DatabaseBudgetStore(opened.database.db);
      const key = `key:${randomUUID()}:total`;
      await settleCalls(store, key, 3, t0);
      expect(await rowsUnder(key)).toEqual([]);
      expect(await store.read([key], t0)).toEqual([{ counter: key, spentNano: 15, reservedNano: 0 }]);
    });

    it('prunes lapsed markers when the counter is settled again, and still counts a repeat once until then', async () => {
      const store = new DatabaseBudgetStore(opened.database.db);
      const key = `key:${randomUUID()}:total`;
      await settleCalls(store, key, 4, t0);
      expect(await rowsUnder(`settled:${key}`)).toHaveLength(4);
      const later = t0 + SETTLED_MARKER_MS + 60_001;
      await settleCalls(store, key, 1, later);
      expect(await rowsUnder(`settled:${key}`)).toHaveLength(1);
      expect(await store.read([key], later)).toEqual([{ counter: key, spentNano: 25, reservedNano: 0 }]);
    });

    it('recognises a settlement remembered by a marker of the earlier form (a zero lease row under settled:<id>)', async () => {
      const store = new DatabaseBudgetStore(opened.database.db);
      const key = `key:${randomUUID()}:total`;
      const reservationId = randomUUID();
      await store.reserve({
        reservationId,
        budgets: [{ counter: key, limitNano: 1000, expiresAt: undefined }],
        amountNano: 100,
        leaseUntil: t0 + 60_000,
        now: t0,
      });
      await opened.database.db.updateTable('groundwork_budget_counters').set({ spent_nano: 40 }).where('counter', '=', key).execute();
      await opened.database.db
        .insertInto('groundwork_budget_reservations')
        .values({ id: `settled:${reservationId}`, counter: key, amount_nano: 0, expires_at: new Date(t0 + SETTLED_MARKER_MS) })
        .execute();
      await store.settle(reservationId, [key], 40, t0 + 1000);
      expect(await store.read([key], t0 + 1000)).toEqual([{ counter: key, spentNano: 40, reservedNano: 0 }]);
    });
  });

  describe('counters of ended periods', () => {
    const expiryOf = async (counter: string) => {
      const row = await opened.database.db
        .selectFrom('groundwork_budget_counters')
        .select('expires_at')
        .where('counter', '=', counter)
        .executeTakeFirst();
      return row === undefined ? 'deleted' : row.expires_at === null ? null : new Date(row.expires_at).getTime();
    };
    /** A counter settled `markers` times, its expiry then set to `t0`: ended, with its settlement markers under it. */
    const endedWithMarkers = async (markers: number): Promise<string> => {
      const store = new DatabaseBudgetStore(opened.database.db, undefined, { sweepBatch: 2 });
      const ended = `ended:${randomUUID()}`;
      for (let call = 0; call < markers; call++) await store.settle(randomUUID(), [ended], 1, t0 - 10_000);
      await store.swept();
      await opened.database.db
        .updateTable('groundwork_budget_counters')
        .set({ expires_at: new Date(t0) })
        .where('counter', '=', ended)
        .execute();
      return ended;
    };
    const spend = async (store: DatabaseBudgetStore, counter: string, expiresAt: number | undefined, now: number) => {
      const reservationId = randomUUID();
      await store.reserve({
        reservationId,
        budgets: [{ counter, limitNano: 1000, expiresAt }],
        amountNano: 10,
        leaseUntil: now + 60_000,
        now,
      });
      await store.settle(reservationId, [counter], 5, now);
      await store.swept();
    };

    it('are deleted with their markers, a bounded batch per sweep, at most one sweep per interval', async () => {
      const store = new DatabaseBudgetStore(opened.database.db, undefined, { sweepIntervalMs: 60_000, sweepBatch: 2 });
      const run = randomUUID();
      const ended = ['a', 'b', 'c'].map((letter) => `ended:${run}:${letter}`);
      const live = `live:${run}`;
      const kept = `kept:${run}`;
      for (const counter of ended) await spend(store, counter, t0 + 1000, t0);
      await spend(store, live, t0 + 3_600_000, t0);
      await spend(store, kept, undefined, t0);
      // Within the interval of the first settlement's sweep: no other sweep, however many settlements.
      await spend(store, live, t0 + 3_600_000, t0 + 2000);
      expect(await Promise.all(ended.map(expiryOf))).toEqual([t0 + 1000, t0 + 1000, t0 + 1000]);
      await spend(store, live, t0 + 3_600_000, t0 + 60_000);
      // A batch of two of the three. They end at the same moment: which two is the order the database
      // finds them in, which is where their rows lie in the table, not their names.
      const expiries = await Promise.all(ended.map(expiryOf));
      const left = ended.filter((_counter, index) => expiries[index] !== 'deleted');
      expect(left).toHaveLength(1);
      expect(expiries.filter((expiry) => expiry !== 'deleted')).toEqual([t0 + 1000]);
      const markers = await opened.database.db
        .selectFrom('groundwork_budget_reservations')
        .select('counter')
        .where(
          'counter',
          'in',
          ended.map((counter) => `settled:${counter}`),
        )
        .execute();
      expect(markers.map((row) => row.counter)).toEqual([`settled:${left[0]}`]);
      await spend(store, live, t0 + 3_600_000, t0 + 120_000);
      expect(await expiryOf(left[0] as string)).toBe('deleted');
      expect([await expiryOf(live), await expiryOf(kept)]).toEqual([t0 + 3_600_000, null]);
      expect(await store.read([live, kept], t0 + 120_000)).toEqual([
        { counter: live, spentNano: 20, reservedNano: 0 },
        { counter: kept, spentNano: 5, reservedNano: 0 },
      ]);
    });

    it('are kept through a settlement into them after they ended, and deleted by the next sweep', async () => {
      const store = new DatabaseBudgetStore(opened.database.db, undefined, { sweepIntervalMs: 60_000 });
      const late = `late:${randomUUID()}`;
      const reservationId = randomUUID();
      const budgets = [{ counter: late, limitNano: 1000, expiresAt: t0 + 1000 }];
      await store.reserve({ reservationId, budgets, amountNano: 10, leaseUntil: t0 + 900, now: t0 });
      await store.settle(reservationId, [late], 5, t0 + 2000);
      // The settlement started a sweep in the background: the counter must outlast it, not merely be checked before it ran.
      await store.swept();
      expect(await expiryOf(late)).toBe(t0 + 1000);
      expect(await store.read([late], t0 + 2000)).toEqual([{ counter: late, spentNano: 5, reservedNano: 0 }]);
      await store.settle(randomUUID(), [`other:${randomUUID()}`], 0, t0 + 62_000);
      await store.swept();
      expect(await expiryOf(late)).toBe('deleted');
    });

    onPostgres('are swept in the background: the settlement answers while the sweep waits, and close waits for it', async () => {
      const ended = `ended:${randomUUID()}`;
      const first = new DatabaseBudgetStore(opened.database.db);
      await first.settle(randomUUID(), [ended], 1, t0 - 10_000);
      await first.close();
      await opened.database.db
        .updateTable('groundwork_budget_counters')
        .set({ expires_at: new Date(t0) })
        .where('counter', '=', ended)
        .execute();
      const store = new DatabaseBudgetStore(opened.database.db);
      const key = `key:${randomUUID()}:total`;
      await other.db.transaction().execute(async (tx) => {
        // The sweep's delete of the marker under the ended counter waits for this lock.
        await tx.selectFrom('groundwork_budget_reservations').select('id').where('counter', '=', `settled:${ended}`).forUpdate().execute();
        await store.settle(randomUUID(), [key], 7, t0 + 1000);
        expect(await store.read([key], t0 + 1000)).toEqual([{ counter: key, spentNano: 7, reservedNano: 0 }]);
        expect(await expiryOf(ended)).toBe(t0);
      });
      await store.close();
      expect(await expiryOf(ended)).toBe('deleted');
      // Closed: no settlement starts a sweep any more.
      const later = `ended:${randomUUID()}`;
      await store.settle(randomUUID(), [later], 1, t0 - 10_000);
      await opened.database.db
        .updateTable('groundwork_budget_counters')
        .set({ expires_at: new Date(t0) })
        .where('counter', '=', later)
        .execute();
      await store.settle(randomUUID(), [key], 1, t0 + 120_000);
      await store.swept();
      expect(await expiryOf(later)).toBe(t0);
      await opened.database.db.deleteFrom('groundwork_budget_counters').where('counter', '=', later).execute();
      await opened.database.db.deleteFrom('groundwork_budget_reservations').where('counter', '=', `settled:${later}`).execute();
    });

    it('are swept after the settlement commits: a failed sweep is logged and counted, and the spend kept', async () => {
      const db = opened.database.db;
      const run = randomUUID().replaceAll('-', '');
      const doomed = `doomed:${run}`;
      // A trigger that refuses to delete the one ended counter makes the sweep fail.
      const dropTrigger = await refuseDeleting(db, doomed, run);
      try {
        const logged = vi.fn();
        const logger = { error: logged } as unknown as Logger;
        const failures = { inc: vi.fn() };
        const metrics = { storeFailures: failures } as never;
        await new DatabaseBudgetStore(db).settle(randomUUID(), [doomed], 5, t0);
        await db
          .updateTable('groundwork_budget_counters')
          .set({ expires_at: new Date(t0) })
          .where('counter', '=', doomed)
          .execute();
        const store = new DatabaseBudgetStore(db, undefined, { logger, metrics, sweepBatch: 8_000 });
        const key = `key:${run}:total`;
        await store.settle(randomUUID(), [key], 7, t0 + 1000);
        await store.swept();
        expect(await store.read([key], t0 + 1000)).toEqual([{ counter: key, spentNano: 7, reservedNano: 0 }]);
        expect(await expiryOf(doomed)).toBe(t0);
        expect(failures.inc).toHaveBeenCalledWith({ component: 'tenant_budget_sweep' });
        expect(logged).toHaveBeenCalledTimes(1);
        expect(JSON.stringify(logged.mock.calls[0])).not.toContain(doomed);
        // The next interval sweeps again, and succeeds once nothing refuses it.
        await dropTrigger();
        await store.settle(randomUUID(), [key], 1, t0 + 61_000);
        await store.swept();
        expect(await expiryOf(doomed)).toBe('deleted');
        expect(logged).toHaveBeenCalledTimes(1);
        expect(failures.inc).toHaveBeenCalledTimes(1);
      } finally {
        await dropTrigger();
        await db.deleteFrom('groundwork_budget_counters').where('counter', '=', doomed).execute();
        await db.deleteFrom('groundwork_budget_reservations').where('counter', '=', `settled:${doomed}`).execute();
      }
    });

    it('keep a logger that throws while reporting a failed sweep from rejecting anything', async () => {
      const db = opened.database.db;
      const run = randomUUID().replaceAll('-', '');
      const doomed = `doomed:${run}`;
      // A trigger that refuses to delete the one ended counter makes the sweep fail.
      const dropTrigger = await refuseDeleting(db, doomed, run);
      const unhandled = vi.fn();
      process.on('unhandledRejection', unhandled);
      try {
        const first = new DatabaseBudgetStore(db);
        await first.settle(randomUUID(), [doomed], 5, t0);
        await first.close();
        await db
          .updateTable('groundwork_budget_counters')
          .set({ expires_at: new Date(t0) })
          .where('counter', '=', doomed)
          .execute();
        const logged = vi.fn(() => {
          throw new Error('the log sink is down');
        });
        const failures = { inc: vi.fn() };
        const store = new DatabaseBudgetStore(db, undefined, {
          logger: { error: logged } as unknown as Logger,
          metrics: { storeFailures: failures } as never,
        });
        const key = `key:${run}:total`;
        await store.settle(randomUUID(), [key], 7, t0 + 1000);
        await expect(store.swept()).resolves.toBeUndefined();
        // Long enough for a rejection nobody handles to be reported.
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(logged).toHaveBeenCalledTimes(1);
        expect(failures.inc).toHaveBeenCalledTimes(1);
        expect(unhandled).not.toHaveBeenCalled();
        expect(await expiryOf(doomed)).toBe(t0);
        expect(await store.read([key], t0 + 1000)).toEqual([{ counter: key, spentNano: 7, reservedNano: 0 }]);
        await expect(store.close()).resolves.toBeUndefined();
      } finally {
        process.off('unhandledRejection', unhandled);
        await dropTrigger();
        await db.deleteFrom('groundwork_budget_counters').where('counter', '=', doomed).execute();
        await db.deleteFrom('groundwork_budget_reservations').where('counter', '=', `settled:${doomed}`).execute();
      }
    });

    it('delete every row under a swept counter, however many, a bounded delete at a time', async () => {
      const ended = await endedWithMarkers(5);
      expect(await rowsUnder(`settled:${ended}`)).toHaveLength(5);
      const sweeper = new DatabaseBudgetStore(opened.database.db, undefined, { sweepBatch: 2 });
      await sweeper.settle(randomUUID(), [`other:${randomUUID()}`], 0, t0 + 1);
      await sweeper.swept();
      expect(await expiryOf(ended)).toBe('deleted');
      expect(await rowsUnder(`settled:${ended}`)).toEqual([]);
    });

    it('stop a sweep after its budget of deletes, and leave the rest to the next interval', async () => {
      // 25 markers at 2 a delete: 10 deletes (a sweep's budget) leave 5 and the counter.
      const ended = await endedWithMarkers(25);
      const sweeper = new DatabaseBudgetStore(opened.database.db, undefined, { sweepBatch: 2, sweepIntervalMs: 60_000 });
      await sweeper.settle(randomUUID(), [`other:${randomUUID()}`], 0, t0 + 1);
      await sweeper.swept();
      expect(await rowsUnder(`settled:${ended}`)).toHaveLength(5);
      expect(await expiryOf(ended)).toBe(t0);
      await sweeper.settle(randomUUID(), [`other:${randomUUID()}`], 0, t0 + 60_001);
      await sweeper.swept();
      expect(await expiryOf(ended)).toBe('deleted');
      expect(await rowsUnder(`settled:${ended}`)).toEqual([]);
    });

    onSqlite('are swept a largest batch at a time within SQLite’s limit on a statement’s parameters', async () => {
      const db = opened.database.db;
      const run = randomUUID();
      // More than a largest batch, ended before anything the other tests leave: the first sweep takes a whole batch of them.
      const ended = Array.from({ length: 8200 }, (_, index) => `ended:${run}:${index}`);
      for (let start = 0; start < ended.length; start += 500) {
        await db
          .insertInto('groundwork_budget_counters')
          .values(ended.slice(start, start + 500).map((counter) => ({ counter, spent_nano: 1, expires_at: new Date(t0 - 864_000_000) })))
          .execute();
      }
      const left = async () =>
        Number(
          (
            await db
              .selectFrom('groundwork_budget_counters')
              .select((select) => select.fn.countAll<number>().as('left'))
              .where('counter', 'like', `ended:${run}:%`)
              .executeTakeFirstOrThrow()
          ).left,
        );
      const logged = vi.fn();
      const store = new DatabaseBudgetStore(db, undefined, {
        sweepBatch: MAX_SWEEP_BATCH,
        sweepIntervalMs: 60_000,
        logger: { error: logged } as unknown as Logger,
      });
      await store.settle(randomUUID(), [`other:${run}`], 0, t0);
      await store.swept();
      expect(logged).not.toHaveBeenCalled();
      expect(await left()).toBe(8200 - MAX_SWEEP_BATCH);
      await store.settle(randomUUID(), [`other:${run}`], 0, t0 + 60_000);
      await store.swept();
      expect(logged).not.toHaveBeenCalled();
      expect(await left()).toBe(0);
    });

    it('refuses sweep options that are not numbers of the right range', () => {
      const db = opened.database.db;
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepIntervalMs: Number.NaN })).toThrow(
        /sweepIntervalMs must be a finite number/,
      );
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepIntervalMs: -1 })).toThrow(/sweepIntervalMs/);
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepIntervalMs: 0 })).toThrow(
        /sweepIntervalMs must be a finite number of at least 1/,
      );
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepIntervalMs: Number.POSITIVE_INFINITY })).toThrow(/sweepIntervalMs/);
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepBatch: 8_001 })).toThrow(
        /sweepBatch must be a whole number from 1 to 8000/,
      );
      expect(new DatabaseBudgetStore(db, undefined, { sweepIntervalMs: 1, sweepBatch: 8_000 })).toBeInstanceOf(DatabaseBudgetStore);
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepBatch: 0 })).toThrow(/sweepBatch must be a whole number/);
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepBatch: 1.5 })).toThrow(/sweepBatch/);
      expect(() => new DatabaseBudgetStore(db, undefined, { sweepBatch: Number.NaN })).toThrow(/sweepBatch/);
    });

    withLockQuery('reads a reserve’s spend from the rows its lock query locked, not with a query of its own', async () => {
      const { db, statements } = recorded();
      const store = new DatabaseBudgetStore(db);
      const key = `key:${randomUUID()}:total`;
      await store.settle(randomUUID(), [key], 40, t0);
      await store.swept();
      statements.length = 0;
      const granted = await store.reserve({
        reservationId: randomUUID(),
        budgets: [{ counter: key, limitNano: 100, expiresAt: undefined }],
        amountNano: 50,
        leaseUntil: t0 + 60_000,
        now: t0,
      });
      expect(granted).toEqual({ granted: true, amountNano: 50 });
      // Insert the counter, lock it (with its spend), prune lapsed leases, sum live ones, insert the lease.
      expect(statements).toHaveLength(5);
      expect(statements.filter((statement) => /^select .* from "groundwork_budget_counters"/.test(statement))).toEqual([
        expect.stringMatching(/^select "counter", "spent_nano" from .* for update$/),
      ]);
      // The spend it read is the one that counts: 40 spent of 100 leaves 10 after the 50 just granted.
      expect(
        await store.reserve({
          reservationId: randomUUID(),
          budgets: [{ counter: key, limitNano: 100, expiresAt: undefined }],
          amountNano: 20,
          minimumNano: 1,
          leaseUntil: t0 + 60_000,
          now: t0,
        }),
      ).toEqual({ granted: true, amountNano: 10 });
    });

    withLockQuery('gives up after three transactions when a counter is gone each time before its lock', async () => {
      const db = opened.database.db;
      const run = randomUUID().replaceAll('-', '');
      const vanishing = `vanishing:${run}`;
      // A trigger that skips every insert of the counter: each transaction's lock then finds no row for it.
      await sql
        .raw(
          `CREATE FUNCTION skip_${run}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF new.counter = '${vanishing}' THEN RETURN NULL; END IF; RETURN new; END $$`,
        )
        .execute(db);
      await sql
        .raw(`CREATE TRIGGER skip_${run} BEFORE INSERT ON groundwork_budget_counters FOR EACH ROW EXECUTE FUNCTION skip_${run}()`)
        .execute(db);
      try {
        const { db: recording, statements } = recorded();
        const store = new DatabaseBudgetStore(recording);
        await expect(
          store.reserve({
            reservationId: randomUUID(),
            budgets: [{ counter: vanishing, limitNano: 1000, expiresAt: undefined }],
            amountNano: 10,
            leaseUntil: t0 + 60_000,
            now: t0,
          }),
        ).rejects.toThrow(/budget counters were deleted each time before they could be locked \(3 attempts\)/);
        // One transaction per attempt, each inserting the counter and then finding no row to lock.
        expect(statements.filter((statement) => statement.startsWith('insert into "groundwork_budget_counters"'))).toHaveLength(3);
        expect(statements.filter((statement) => statement.endsWith(' for update'))).toHaveLength(3);
        expect(statements.filter((statement) => statement.startsWith('insert into "groundwork_budget_reservations"'))).toEqual([]);
        expect(await rowsUnder(vanishing)).toEqual([]);
      } finally {
        await sql.raw(`DROP TRIGGER IF EXISTS skip_${run} ON groundwork_budget_counters`).execute(db);
        await sql.raw(`DROP FUNCTION IF EXISTS skip_${run}()`).execute(db);
      }
    });

    onPostgres('charges a counter deleted elsewhere between its insert and its lock', async () => {
      const store = new DatabaseBudgetStore(opened.database.db, undefined, { sweepIntervalMs: Number.MAX_SAFE_INTEGER });
      const key = `key:${randomUUID()}:total`;
      await store.settle(randomUUID(), [key], 3, t0);
      let settled: Promise<void> | undefined;
      await other.db.transaction().execute(async (tx) => {
        await tx.selectFrom('groundwork_budget_counters').select('counter').where('counter', '=', key).forUpdate().execute();
        settled = store.settle(randomUUID(), [key], 5, t0 + 1000);
        // Until the settlement has inserted (nothing: the row is there) and waits for the lock this transaction holds.
        for (;;) {
          // Only the settlement's lock on the counters: no other session waiting on a lock can end this early.
          const waiting = await sql<{ waiting: number }>`select count(*)::int as waiting from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'
              and query ilike '%from "groundwork_budget_counters"%for update%'`.execute(opened.database.db);
          if ((waiting.rows[0]?.waiting ?? 0) > 0) break;
        }
        await tx.deleteFrom('groundwork_budget_counters').where('counter', '=', key).execute();
      });
      await settled;
      expect(await store.read([key], t0 + 1000)).toEqual([{ counter: key, spentNano: 5, reservedNano: 0 }]);
    });

    it('get their period’s expiry when a settlement creates them', async () => {
      const store = new DatabaseBudgetStore(opened.database.db);
      const day = `key:${randomUUID()}:day:2027-01-14`;
      const total = `key:${randomUUID()}:total`;
      await store.settle(randomUUID(), [day, total], 5, Date.UTC(2027, 0, 14, 12));
      expect([await expiryOf(day), await expiryOf(total)]).toEqual([counterExpiresAt(day), null]);
    });

    it('get the expiry a rebuild is given, with the ledger’s spend', async () => {
      const store = new DatabaseBudgetStore(opened.database.db, ledgerSpend(opened.database.db));
      const day = `key:${randomUUID()}:day:2027-01-14`;
      await spend(store, day, undefined, t0);
      expect(await store.rebuild(day, t0 + 86_400_000)).toBe(0);
      expect(await expiryOf(day)).toBe(t0 + 86_400_000);
      expect(await store.read([day], t0)).toEqual([{ counter: day, spentNano: 0, reservedNano: 0 }]);
    });
  });
});

describe.each(TENANT_DATABASE_TARGETS)('migration 0011 on $name', (target) => {
  it('gives the counters already there their period’s expiry, and is reverted cleanly', async () => {
    const opened = await target.open();
    try {
      const { db } = opened.database;
      expect((await opened.database.migrate('down')).migrations).toEqual([{ scope: 'groundwork', name: '0012_llm_usage_rollup_calls' }]);
      expect((await opened.database.migrate('down')).migrations).toEqual([{ scope: 'groundwork', name: '0011_budget_counter_expiry' }]);
      const counters = [
        'key:k1:day:2026-11-29',
        'team:t1:month:2026-02',
        'key:k1:total',
        'key:k1:concurrency',
        // Names that match the LIKE patterns but are not real dates: kept, without an expiry.
        'key:k2:month:2026-13',
        'key:k2:day:2026-00-01',
      ];
      await (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto('groundwork_budget_counters')
        .values(counters.map((counter) => ({ counter, spent_nano: 7 })))
        .execute();
      expect((await opened.database.migrate('up')).migrations).toEqual([
        { scope: 'groundwork', name: '0011_budget_counter_expiry' },
        { scope: 'groundwork', name: '0012_llm_usage_rollup_calls' },
      ]);
      const rows = await db.selectFrom('groundwork_budget_counters').select(['counter', 'expires_at']).orderBy('counter').execute();
      const hour = 3_600_000;
      expect(rows.map((row) => [row.counter, row.expires_at === null ? null : new Date(row.expires_at).getTime()])).toEqual([
        ['key:k1:concurrency', null],
        ['key:k1:day:2026-11-29', Date.UTC(2026, 10, 30) + 54 * hour],
        ['key:k1:total', null],
        ['key:k2:day:2026-00-01', null],
        ['key:k2:month:2026-13', null],
        ['team:t1:month:2026-02', Date.UTC(2026, 2, 1) + 54 * hour],
      ]);
    } finally {
      await opened.close();
    }
  });

  it('fills the expiry of more counters than one page of its backfill', async () => {
    const opened = await target.open();
    try {
      const { db } = opened.database;
      await opened.database.migrate('down'); // 0012
      await opened.database.migrate('down'); // 0011
      const counters = Array.from({ length: 2500 }, (_, index) => `key:k${index}:day:2026-11-${String((index % 28) + 1).padStart(2, '0')}`);
      for (let start = 0; start < counters.length; start += 500) {
        await (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
          .insertInto('groundwork_budget_counters')
          .values(counters.slice(start, start + 500).map((counter) => ({ counter, spent_nano: 1 })))
          .execute();
      }
      await opened.database.migrate('up');
      const rows = await db.selectFrom('groundwork_budget_counters').select(['counter', 'expires_at']).execute();
      expect(rows).toHaveLength(2500);
      // The rule as migration 0011 froze it: 54 hours after the day ends, whatever counterExpiresAt says later.
      for (const row of rows) {
        const day = Number(row.counter.slice(-2));
        expect(row.expires_at === null ? null : new Date(row.expires_at).getTime()).toBe(Date.UTC(2026, 10, day + 1) + 54 * 3_600_000);
      }
    } finally {
      await opened.close();
    }
  });
});
