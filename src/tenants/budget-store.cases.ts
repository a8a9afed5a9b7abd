import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BudgetLimit, BudgetStore, ReserveRequest } from './budget-store.js';

/** A store under test, and another handle on the same shared state (another replica), when there is one. */
export interface BudgetStoreFixture {
  store: BudgetStore;
  /** A second store over the same Redis or database, as another process would hold. */
  other: BudgetStore;
}

const t0 = 1_800_000_000_000;

/** The contract every budget store keeps: run against Redis, SQLite, PGlite and PostgreSQL. */
export function budgetStoreContract(name: string, fixture: () => BudgetStoreFixture): void {
  describe(`${name} budget store`, () => {
    let unique = 0;
    const counter = (label: string) => `${label}:${++unique}:${randomUUID().slice(0, 8)}`;
    const limit = (id: string, limitNano: number): BudgetLimit => ({ counter: id, limitNano, expiresAt: undefined });
    const request = (budgets: BudgetLimit[], amountNano: number, extra: Partial<ReserveRequest> = {}): ReserveRequest => ({
      reservationId: randomUUID(),
      budgets,
      amountNano,
      leaseUntil: t0 + 60_000,
      now: t0,
      ...extra,
    });

    it('reserves while limit − spent − reserved has room, then refuses and names the budget', async () => {
      const { store } = fixture();
      const key = counter('key');
      expect(await store.reserve(request([limit(key, 100)], 60))).toMatchObject({ granted: true, amountNano: 60 });
      expect(await store.reserve(request([limit(key, 100)], 40))).toMatchObject({ granted: true, amountNano: 40 });
      expect(await store.reserve(request([limit(key, 100)], 1))).toEqual({
        granted: false,
        counter: key,
        limitNano: 100,
        spentNano: 0,
        reservedNano: 100,
      });
      expect(await store.read([key], t0)).toEqual([{ counter: key, spentNano: 0, reservedNano: 100 }]);
    });

    it('settles to the real cost: releases the reservation and adds the spend, even on another replica', async () => {
      const { store, other } = fixture();
      const key = counter('key');
      const first = request([limit(key, 100)], 80);
      await store.reserve(first);
      expect((await store.reserve(request([limit(key, 100)], 30))).granted).toBe(false);
      await other.settle(first.reservationId, [key], 25, t0);
      expect(await store.read([key], t0)).toEqual([{ counter: key, spentNano: 25, reservedNano: 0 }]);
      expect(await store.reserve(request([limit(key, 100)], 75))).toMatchObject({ granted: true, amountNano: 75 });
      expect((await store.reserve(request([limit(key, 100)], 1))).granted).toBe(false);
    });

    it('settles once: a repeated settlement with `once` adds nothing, nor one whose lease lapsed', async () => {
      const { store, other } = fixture();
      const key = counter('key');
      const team = counter('team');
      const batch = request([limit(key, 1000), limit(team, 1000)], 600, { leaseUntil: t0 + 86_400_000 });
      await store.reserve(batch);
      await store.settle(batch.reservationId, [key, team], 250, t0 + 3_600_000, { once: true });
      await other.settle(batch.reservationId, [key, team], 250, t0 + 3_600_000, { once: true });
      expect(await store.read([key, team], t0 + 3_600_000)).toEqual([
        { counter: key, spentNano: 250, reservedNano: 0 },
        { counter: team, spentNano: 250, reservedNano: 0 },
      ]);
      const lapsed = request([limit(key, 1000)], 100);
      await store.reserve(lapsed);
      await store.settle(lapsed.reservationId, [key], 100, t0 + 120_000, { once: true });
      expect(await store.read([key], t0 + 120_000)).toEqual([{ counter: key, spentNano: 250, reservedNano: 0 }]);
    });

    it('counts a settlement once however often it is repeated (a replay after a lost answer), on any replica, lease lapsed or not', async () => {
      const { store, other } = fixture();
      const key = counter('key');
      const team = counter('team');
      const call = request([limit(key, 1000), limit(team, 1000)], 100);
      await store.reserve(call);
      await store.settle(call.reservationId, [key, team], 40, t0 + 1000);
      await other.settle(call.reservationId, [key, team], 40, t0 + 1000);
      // After its lease would have ended, spend is still added for a first settlement, but not for a repeat.
      await store.settle(call.reservationId, [key, team], 40, t0 + 120_000);
      expect(await store.read([key, team], t0 + 120_000)).toEqual([
        { counter: key, spentNano: 40, reservedNano: 0 },
        { counter: team, spentNano: 40, reservedNano: 0 },
      ]);
      // Spend reserved nowhere in this store (a local share's, replayed): added once too.
      const elsewhere = randomUUID();
      await store.settle(elsewhere, [key], 7, t0 + 2000);
      await other.settle(elsewhere, [key], 7, t0 + 2000);
      expect(await store.read([key], t0 + 2000)).toEqual([{ counter: key, spentNano: 47, reservedNano: 0 }]);
    });

    it('still adds spend settled after a release of the same reservation (a release is not remembered)', async () => {
      const { store } = fixture();
      const key = counter('key');
      const call = request([limit(key, 100)], 60);
      await store.reserve(call);
      await store.settle(call.reservationId, [key], 0, t0);
      await store.settle(call.reservationId, [key], 30, t0);
      await store.settle(call.reservationId, [key], 30, t0);
      expect(await store.read([key], t0)).toEqual([{ counter: key, spentNano: 30, reservedNano: 0 }]);
    });

    it('refunds a failed call: settling with 0 frees the room and spends nothing', async () => {
      const { store } = fixture();
      const key = counter('key');
      const call = request([limit(key, 50)], 50);
      await store.reserve(call);
      await store.settle(call.reservationId, [key], 0, t0);
      expect(await store.read([key], t0)).toEqual([{ counter: key, spentNano: 0, reservedNano: 0 }]);
      await store.settle(call.reservationId, [key], 0, t0);
      expect(await store.read([key], t0)).toEqual([{ counter: key, spentNano: 0, reservedNano: 0 }]);
    });

    it('reserves on every budget or none: a full team budget refuses without touching the key', async () => {
      const { store } = fixture();
      const key = counter('key');
      const team = counter('team');
      await store.reserve(request([limit(team, 10)], 10));
      const refused = await store.reserve(request([limit(key, 100), limit(team, 10)], 5));
      expect(refused).toMatchObject({ granted: false, counter: team, reservedNano: 10 });
      expect(await store.read([key], t0)).toEqual([{ counter: key, spentNano: 0, reservedNano: 0 }]);
    });

    it('grants less than asked, down to the minimum, when that is what fits', async () => {
      const { store } = fixture();
      const key = counter('key');
      await store.reserve(request([limit(key, 100)], 70));
      expect(await store.reserve(request([limit(key, 100)], 50, { minimumNano: 20 }))).toMatchObject({ granted: true, amountNano: 30 });
      expect((await store.reserve(request([limit(key, 100)], 50, { minimumNano: 1 }))).granted).toBe(false);
    });

    it('lets a reservation whose lease lapsed go, so a dead process does not hold the budget', async () => {
      const { store } = fixture();
      const key = counter('key');
      await store.reserve(request([limit(key, 100)], 100, { leaseUntil: t0 + 1000 }));
      expect((await store.reserve(request([limit(key, 100)], 1, { now: t0 + 999 }))).granted).toBe(false);
      expect(await store.reserve(request([limit(key, 100)], 100, { now: t0 + 1000, leaseUntil: t0 + 5000 }))).toMatchObject({
        granted: true,
        amountNano: 100,
      });
    });

    it('counts the spend of a call whose lease lapsed when it settles late', async () => {
      const { store } = fixture();
      const key = counter('key');
      const late = request([limit(key, 100)], 40, { leaseUntil: t0 + 1000 });
      await store.reserve(late);
      await store.settle(late.reservationId, [key], 30, t0 + 2000);
      expect(await store.read([key], t0 + 2000)).toEqual([{ counter: key, spentNano: 30, reservedNano: 0 }]);
    });

    it('never grants more than the budget to concurrent callers on two replicas', async () => {
      const { store, other } = fixture();
      const key = counter('key');
      const team = counter('team');
      const attempts = Array.from({ length: 40 }, (_, index) =>
        (index % 2 === 0 ? store : other).reserve(request([limit(key, 1000), limit(team, 95)], 10)),
      );
      const results = await Promise.all(attempts);
      expect(results.filter((result) => result.granted)).toHaveLength(9);
      expect(await store.read([key, team], t0)).toEqual([
        { counter: key, spentNano: 0, reservedNano: 90 },
        { counter: team, spentNano: 0, reservedNano: 90 },
      ]);
    });
  });
}
