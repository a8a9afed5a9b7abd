import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { budgetStoreContract } from './budget-store.cases.js';
import { SETTLED_MARKER_MS } from './budget-store.js';
import { DatabaseBudgetStore } from './database-budget-store.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from './tenant-databases.test-helpers.js';

const t0 = 1_800_000_000_000;

describe.each(TENANT_DATABASE_TARGETS)('on $name', (target) => {
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

  describe('settlement markers', () => {
    const rowsUnder = async (counter: string) =>
      opened.database.db
        .selectFrom('groundwork_budget_reservations')
        .select(['id', 'amount_nano'])
        .where('counter', '=', counter)
        .execute();
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
});
