import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../internal/clock.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { StoreFailover } from '../resilience/store-failover.js';
import { ManualClock } from '../testing/manual-clock.js';
import { budgetLimits } from './budget-limits.js';
import type { BudgetLimit, BudgetStore, ReserveResult } from './budget-store.js';
import { FailoverBudgetStore } from './failover-budget-store.js';
import type { LedgerSpend } from './ledger-spend.js';
import { MemoryBudgetStore } from './memory-budget-store.js';
import { type PrivateRedis, startPrivateRedis } from './private-redis.test-helpers.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { BudgetStoreUnavailableError } from './tenant-refusals.js';

let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis();
}, 20_000);

afterAll(async () => {
  await redis?.close();
});

/** The usage ledger as a test sets it: what it holds per counter. */
function ledger(spent: Map<string, number>): LedgerSpend {
  return { covers: (counter) => !counter.endsWith(':concurrency'), spentNano: async (counter) => spent.get(counter) ?? 0 };
}

async function fleetStore(options: { local: boolean; ledgerSpent: Map<string, number> }) {
  const { logger, records } = captureLogger('info');
  const metrics = new GroundworkMetrics();
  const shared = new RedisBudgetStore(await redis.client(), 'gw:', ledger(options.ledgerSpent));
  const store = new FailoverBudgetStore({
    shared,
    local: options.local ? new MemoryBudgetStore() : undefined,
    // Its time bound fires only when a test moves this clock: never on its own, on a process held up while Redis answers.
    failover: new StoreFailover({ component: 'tenant_budget', logger, metrics, clock: new ManualClock(), retryMs: 50, timeoutMs: 500 }),
    replicas: 2,
    ledger: ledger(options.ledgerSpent),
    logger,
    metrics,
  });
  return { store, shared, records, metrics };
}

/**
 * A failover store over `shared`, a memory store as its local share. Its time bound runs on
 * `clock`, by default one nobody moves: it never fires on its own, on a process held up while the
 * store answers.
 */
function failoverOver(
  shared: BudgetStore,
  options: { retryMs: number; timeoutMs: number; replicas: number; replayBatch?: number; clock?: Clock },
): FailoverBudgetStore {
  const { logger } = captureLogger('info');
  const { retryMs, timeoutMs, replicas, replayBatch, clock = new ManualClock() } = options;
  return new FailoverBudgetStore({
    shared,
    local: new MemoryBudgetStore(),
    failover: new StoreFailover({ component: 'tenant_budget', logger, metrics: undefined, clock, retryMs, timeoutMs }),
    replicas,
    clock,
    logger,
    ...(replayBatch === undefined ? {} : { replayBatch }),
  });
}

async function failures(metrics: GroundworkMetrics): Promise<number> {
  const metric = await metrics.storeFailures.get();
  return metric.values.find((value) => value.labels.component === 'tenant_budget')?.value ?? 0;
}

/** Reserves `amountNano` on `budget`; `now` defaults to the time of the call. */
const reserve = (store: FailoverBudgetStore, budget: BudgetLimit, amountNano: number, now = Date.now()) => {
  const reservationId = randomUUID();
  return store
    .reserve({ reservationId, budgets: [budget], amountNano, leaseUntil: now + 60_000, now })
    .then((result) => ({ result, reservationId }));
};

/** A promise the test settles: `open()` lets whatever awaits `opened` go on. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function untilShared(store: FailoverBudgetStore, budget: BudgetLimit): Promise<void> {
  for (let round = 0; round < 100; round++) {
    await new Promise((resolve) => setTimeout(resolve, 60));
    const { result, reservationId } = await reserve(store, budget, 0);
    await store.settle(reservationId, [budget.counter], 0, Date.now());
    if (result.granted && !store.onLocal) return;
  }
  throw new Error('the shared store did not come back');
}

describe('FailoverBudgetStore with a Redis that dies', () => {
  it('keeps a local share (room left ÷ replicas), never throws, then replays the outage spend and seeds lost counters from the ledger', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1000, expiresAt: undefined };
    const ledgerSpent = new Map<string, number>();
    const { store, shared, records, metrics } = await fleetStore({ local: true, ledgerSpent });

    // Redis up: 400 settled, and the store sees it.
    for (const spent of [300, 100]) {
      const { result, reservationId } = await reserve(store, budget, 200);
      expect(result.granted).toBe(true);
      await store.settle(reservationId, [counter], spent, Date.now());
    }
    ledgerSpent.set(counter, 400);

    await redis.kill();
    // The share: the room last seen, (1000 − 300 spent − 200 then reserved) ÷ 2 replicas = 250, from this replica alone.
    const first = await reserve(store, budget, 200);
    expect(first.result).toMatchObject({ granted: true, amountNano: 200 });
    expect(store.onLocal).toBe(true);
    const second = await reserve(store, budget, 50);
    expect(second.result).toMatchObject({ granted: true, amountNano: 50 });
    expect((await reserve(store, budget, 1)).result).toMatchObject({ granted: false, limitNano: 250, reservedNano: 250, localShare: true });
    await store.settle(first.reservationId, [counter], 150, Date.now());
    await store.settle(second.reservationId, [counter], 100, Date.now());
    // Both settlements, and the release of each reservation Redis may have made before it stopped answering.
    expect(store.pending).toBeGreaterThanOrEqual(3);
    expect(await failures(metrics)).toBeGreaterThanOrEqual(1);
    const warnings = records.filter((record) => String(record.msg).includes('Shared tenant-budget store (Redis) failed'));
    expect(warnings).toHaveLength(1);

    // Redis comes back empty (a restart without persistence): the ledger has the whole spend.
    ledgerSpent.set(counter, 650);
    await redis.restart();
    await untilShared(store, budget);
    expect(store.pending).toBe(0);
    expect(await shared.read([counter], Date.now())).toEqual([{ counter, spentNano: 650, reservedNano: 0 }]);
    expect(records.some((record) => String(record.msg).includes('answers again'))).toBe(true);
  }, 30_000);

  it('replays settlements of calls admitted before the outage, and seeds a lost counter without counting them twice', async () => {
    // Today's counter: one of an ended period would expire in Redis (by its clock) as soon as it is seeded.
    const [today] = budgetLimits(
      [
        {
          scope: 'key',
          id: `key_${randomUUID().slice(0, 8)}`,
          settings: { dailyBudgetUsd: 1, monthlyBudgetUsd: null, totalBudgetUsd: null },
        },
      ],
      Date.now(),
    );
    const counter = (today as BudgetLimit).counter;
    const budget: BudgetLimit = { counter, limitNano: 10_000, expiresAt: undefined };
    const ledgerSpent = new Map<string, number>();
    const { store, shared } = await fleetStore({ local: true, ledgerSpent });
    const before = await reserve(store, budget, 100);
    await store.settle(before.reservationId, [counter], 100, Date.now());
    // Admitted on the shared store, settled during the outage.
    const admitted = await reserve(store, budget, 100);
    await redis.kill();
    await store.settle(admitted.reservationId, [counter], 70, Date.now());
    const local = await reserve(store, budget, 50);
    expect(local.result.granted).toBe(true);
    await store.settle(local.reservationId, [counter], 40, Date.now());
    expect(store.pending).toBe(2);
    // The server returns with its data lost, but the ledger was written for every call: seeding takes the larger.
    ledgerSpent.set(counter, 210);
    await redis.restart();
    await untilShared(store, budget);
    expect(await shared.read([counter], Date.now())).toEqual([{ counter, spentNano: 210, reservedNano: 0 }]);
  }, 30_000);

  it('releases a reservation the shared store made after its answer timed out, rather than let it pin the budget', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1000, expiresAt: undefined };
    const redisStore = new RedisBudgetStore(await redis.client(), 'gw:');
    const clock = new ManualClock();
    const made = gate();
    const answer = gate();
    const answered = gate();
    let late = true;
    // Answers the first reservation only after the failover gave up on it (a loaded process): Redis made it all the same.
    const shared: BudgetStore = {
      reserve: async (request) => {
        const result = await redisStore.reserve(request);
        if (late) {
          late = false;
          made.open();
          await answer.opened;
          answered.open();
        }
        return result;
      },
      settle: (reservationId, counters, spentNano) => redisStore.settle(reservationId, counters, spentNano),
      read: (counters, now) => redisStore.read(counters, now),
    };
    const store = failoverOver(shared, { retryMs: 50, timeoutMs: 100, replicas: 2, clock });
    const first = reserve(store, budget, 600);
    await made.opened;
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    // Timed out, then refused by the local share (1000 ÷ 2): the caller waits, and Redis holds 600 for it meanwhile.
    expect((await first).result).toMatchObject({ granted: false, localShare: true });
    expect(await redisStore.read([counter], Date.now())).toEqual([{ counter, spentNano: 0, reservedNano: 600 }]);
    // Back on the shared store once the retry period after the timeout is over, its late answer still on its way: the
    // lost reservation is released before the next one, which now fits.
    expect((await reserve(store, budget, 900, Date.now() + 150)).result).toMatchObject({ granted: true, amountNano: 900 });
    answer.open();
    await answered.opened;
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(0));
  }, 30_000);

  it('releases a reservation granted only after its release was replayed (its ledger seeding was slow)', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1000, expiresAt: undefined };
    const redisStore = new RedisBudgetStore(await redis.client(), 'gw:');
    const clock = new ManualClock();
    const seeded = gate();
    const asked = gate();
    let slow = true;
    let lateGrant: Promise<ReserveResult> | undefined;
    const shared: BudgetStore = {
      reserve: async (request) => {
        if (slow) {
          slow = false;
          asked.open();
          await seeded.opened;
          lateGrant = redisStore.reserve(request);
          return lateGrant;
        }
        return redisStore.reserve(request);
      },
      settle: (reservationId, counters, spentNano) => redisStore.settle(reservationId, counters, spentNano),
      read: (counters, now) => redisStore.read(counters, now),
    };
    const store = failoverOver(shared, { retryMs: 50, timeoutMs: 100, replicas: 2, clock });
    const first = reserve(store, budget, 600);
    await asked.opened;
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    expect((await first).result).toMatchObject({ granted: false, localShare: true });
    // Back on the shared store once the retry period is over: the release is replayed before this reservation, while the first one is still on its way.
    const retried = Date.now() + 50;
    const next = await reserve(store, budget, 100, retried);
    expect(next.result).toMatchObject({ granted: true });
    await store.settle(next.reservationId, [counter], 0, retried);
    // The first reservation is granted now, after its release went by; the store releases it as soon as it hears of it.
    seeded.open();
    await vi.waitFor(() => expect(lateGrant).toBeDefined());
    expect(await lateGrant).toMatchObject({ granted: true, amountNano: 600 });
    await vi.waitFor(
      async () => expect(await redisStore.read([counter], Date.now())).toEqual([{ counter, spentNano: 0, reservedNano: 0 }]),
      { timeout: 5000 },
    );
  }, 30_000);

  it('takes a timeout while the store answers other calls as slowness: the call waits, no local share, no outage', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1000, expiresAt: undefined };
    const redisStore = new RedisBudgetStore(await redis.client(), 'gw:');
    const clock = new ManualClock();
    const made = gate();
    const answer = gate();
    let late: Promise<ReserveResult> | undefined;
    const shared: BudgetStore = {
      reserve: async (request) => {
        const result = await redisStore.reserve(request);
        if (late === undefined) {
          late = answer.opened.then(() => result);
          made.open();
          return late;
        }
        return result;
      },
      settle: (reservationId, counters, spentNano) => redisStore.settle(reservationId, counters, spentNano),
      read: (counters, now) => redisStore.read(counters, now),
    };
    const { logger, records } = captureLogger('info');
    const metrics = new GroundworkMetrics();
    const store = new FailoverBudgetStore({
      shared,
      local: new MemoryBudgetStore(),
      failover: new StoreFailover({ component: 'tenant_budget', logger, metrics, clock, retryMs: 50, timeoutMs: 100 }),
      replicas: 2,
      logger,
      metrics,
    });
    const slow = reserve(store, budget, 300);
    await made.opened;
    // Another operation of this process gets its answer meanwhile: the store is up, this process is slow.
    expect(await store.read([counter], Date.now())).toEqual([{ counter, spentNano: 0, reservedNano: 300 }]);
    // Then the reservation's bound runs out.
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    expect((await slow).result).toMatchObject({ granted: false, localShare: true });
    expect(store.onLocal).toBe(false);
    expect(await failures(metrics)).toBe(0);
    expect(records.some((record) => String(record.msg).includes('failed'))).toBe(false);
    // Asked again: the reservation made too late is released first, and the whole budget is there.
    expect((await reserve(store, budget, 1000)).result).toMatchObject({ granted: true, amountNano: 1000 });
    answer.open();
    await late;
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(0));
  }, 30_000);

  it('replays an outage backlog a group at a time: N settlements in about N ÷ 64 round trips, every one counted', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1_000_000, expiresAt: undefined };
    const client = await redis.client();
    // The real client, counting round trips: a round trip starts when a command is sent while none awaits its answer.
    let inFlight = 0;
    let roundTrips = 0;
    const track = <T>(sent: Promise<T>): Promise<T> => {
      if (inFlight++ === 0) roundTrips++;
      return sent.finally(() => inFlight--);
    };
    const counted = {
      evalsha: (...args: Parameters<typeof client.evalsha>) => track(client.evalsha(...args)),
      eval: (...args: Parameters<typeof client.eval>) => track(client.eval(...args)),
    } as unknown as typeof client;
    const shared = new RedisBudgetStore(counted, 'gw:', ledger(new Map()));
    // Retried after 1 s: the outage's calls below all go to the local share without asking Redis again.
    const store = failoverOver(shared, { retryMs: 1000, timeoutMs: 2000, replicas: 1 });
    await redis.kill();
    // 200 calls admitted from the local share and settled during the outage, 1..200 nano-USD each.
    const operations = 200;
    for (let spent = 1; spent <= operations; spent++) {
      const { result, reservationId } = await reserve(store, budget, 500);
      expect(result.granted).toBe(true);
      await store.settle(reservationId, [counter], spent, Date.now());
    }
    // And the release of the first reservation, which timed out while Redis went away.
    expect(store.pending).toBe(operations + 1);
    await redis.restart();
    // The scripts are loaded once, so that what follows counts the replay alone.
    await shared.settle('warm-up', [`${counter}:warm-up`], 0, Date.now());
    await shared.read([`${counter}:warm-up`], Date.now());
    await new Promise((resolve) => setTimeout(resolve, 1050));
    roundTrips = 0;
    const [state] = await store.read([counter], Date.now());
    expect(store.pending).toBe(0);
    expect(state).toEqual({ counter, spentNano: (operations * (operations + 1)) / 2, reservedNano: 0 });
    // 201 settlements and the read (one at a time: 202 round trips). In groups of 64: the first reservation's release
    // and settlement are not sent together (a group ends before a reservation it holds), then 64, 64, 64, 8, then the read.
    expect(roundTrips).toBeLessThanOrEqual(6);
  }, 30_000);

  it('puts what a replay group failed to settle back at the front of the queue, and settles it on the next replay', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1_000_000, expiresAt: undefined };
    const redisStore = new RedisBudgetStore(await redis.client(), 'gw:');
    let down = true;
    const refusedOnce = new Set<number>([70, 71]);
    const sent: number[] = [];
    // The shared store is away, then answers again but drops two settlements of the first replay.
    const shared: BudgetStore = {
      reserve: async (request) => {
        if (down) throw new Error('connect ECONNREFUSED');
        return redisStore.reserve(request);
      },
      settle: async (reservationId, counters, spentNano, now, options) => {
        if (down) throw new Error('connect ECONNREFUSED');
        sent.push(spentNano);
        if (refusedOnce.delete(spentNano)) throw new Error('connect ECONNRESET');
        return redisStore.settle(reservationId, counters, spentNano, now, options);
      },
      read: async (counters, now) => {
        if (down) throw new Error('connect ECONNREFUSED');
        return redisStore.read(counters, now);
      },
    };
    const store = failoverOver(shared, { retryMs: 1000, timeoutMs: 2000, replicas: 1, replayBatch: 50 });
    for (let spent = 1; spent <= 100; spent++) {
      const { reservationId } = await reserve(store, budget, 500);
      await store.settle(reservationId, [counter], spent, Date.now());
    }
    // The first reservation's release (it failed when the store went away), and 100 settlements.
    expect(store.pending).toBe(101);
    down = false;
    await new Promise((resolve) => setTimeout(resolve, 1050));
    // The replay fails on two settlements: the read answers from the local share meanwhile.
    await store.read([counter], Date.now());
    // The groups: the release alone (a group ends before its reservation's settlement), 1…50, then 51…100, of which two failed.
    expect(store.pending).toBe(2);
    expect(await redisStore.read([counter], Date.now())).toEqual([{ counter, spentNano: 5050 - 70 - 71, reservedNano: 0 }]);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect(await store.read([counter], Date.now())).toEqual([{ counter, spentNano: 5050, reservedNano: 0 }]);
    expect(store.pending).toBe(0);
    // The two that failed were sent again, and nothing else was sent twice.
    expect(sent.slice(-2)).toEqual([70, 71]);
    expect(sent.filter((spent) => spent > 0)).toHaveLength(102);
  }, 30_000);

  it('counts once a replayed settlement Redis applied but answered too late, when the replay sends it again', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1_000_000, expiresAt: undefined };
    const redisStore = new RedisBudgetStore(await redis.client(), 'gw:');
    const clock = new ManualClock();
    const applied = gate();
    const answer = gate();
    let down = true;
    const lateOnce = new Set<number>([7]);
    // The shared store is away, then answers again, but its answer to one settlement comes after the bound: applied all the same.
    const shared: BudgetStore = {
      reserve: async (request) => {
        if (down) throw new Error('connect ECONNREFUSED');
        return redisStore.reserve(request);
      },
      settle: async (reservationId, counters, spentNano, now, options) => {
        if (down) throw new Error('connect ECONNREFUSED');
        await redisStore.settle(reservationId, counters, spentNano, now, options);
        if (lateOnce.delete(spentNano)) {
          applied.open();
          await answer.opened;
        }
      },
      read: async (counters, now) => {
        if (down) throw new Error('connect ECONNREFUSED');
        return redisStore.read(counters, now);
      },
    };
    const store = failoverOver(shared, { retryMs: 100, timeoutMs: 200, replicas: 1, clock });
    for (let spent = 1; spent <= 10; spent++) {
      const { reservationId } = await reserve(store, budget, 500);
      await store.settle(reservationId, [counter], spent, Date.now());
    }
    // The first reservation's release, and the ten settlements.
    expect(store.pending).toBe(11);
    down = false;
    // Once the retry period is over, a read replays them; the answer to settlement 7 is held back until its bound has run out.
    const retried = Date.now() + 100;
    const replay = store.read([counter], retried);
    await applied.opened;
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1));
    clock.advance(200);
    // The replay failed on settlement 7 alone (the read answers from the local share meanwhile): it waits to be sent again.
    await replay;
    expect(store.pending).toBe(1);
    answer.open();
    // Once the retry time after that failure (200 ms into the replay) is over, the next replay sends settlement 7
    // again: 1 + … + 10, the settlement sent twice counted once.
    expect(await store.read([counter], retried + 300)).toEqual([{ counter, spentNano: 55, reservedNano: 0 }]);
    expect(store.pending).toBe(0);
    expect(await redisStore.read([counter], Date.now())).toEqual([{ counter, spentNano: 55, reservedNano: 0 }]);
  }, 30_000);

  it('replays the spend of a local share after an outage longer than the settled marker: a client not connected sent nothing', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1000, expiresAt: undefined };
    const clock = new ManualClock(Date.now());
    const { logger, records } = captureLogger('info');
    const shared = new RedisBudgetStore(await redis.client(), 'gw:');
    const store = new FailoverBudgetStore({
      shared,
      local: new MemoryBudgetStore(),
      failover: new StoreFailover({ component: 'tenant_budget', logger, metrics: undefined, clock, retryMs: 50, timeoutMs: 500 }),
      replicas: 1,
      logger,
      clock,
    });
    const t0 = clock.now();
    await redis.kill();
    await reserve(store, budget, 1, t0);
    expect(store.onLocal).toBe(true);
    // Admitted within the retry time, without asking Redis: its spend was never sent.
    const local = await reserve(store, budget, 100, t0 + 10);
    expect(local.result.granted).toBe(true);
    await store.settle(local.reservationId, [counter], 70, t0 + 10);
    // Replays while the client reconnects fail before anything is written ("Stream isn't writeable").
    for (const minutes of [1, 5]) {
      clock.advance(minutes * 60_000 - (clock.now() - t0));
      await reserve(store, budget, 1, clock.now());
    }
    await redis.restart();
    clock.advance(30 * 60_000 - (clock.now() - t0));
    await reserve(store, budget, 1, clock.now());
    expect(store.pending).toBe(0);
    expect((await shared.read([counter], clock.now()))[0]?.spentNano).toBe(70);
    expect(records.filter((record) => String(record.msg).includes('Dropped'))).toEqual([]);
  }, 30_000);

  it('refuses with 429 and Retry-After when told to refuse, and is not admitting anything', async () => {
    const counter = `key:key_${randomUUID().slice(0, 8)}:total`;
    const budget: BudgetLimit = { counter, limitNano: 1000, expiresAt: undefined };
    const { store } = await fleetStore({ local: false, ledgerSpent: new Map() });
    await redis.kill();
    const refused = reserve(store, budget, 10);
    await expect(refused).rejects.toBeInstanceOf(BudgetStoreUnavailableError);
    await expect(refused).rejects.toMatchObject({ code: 'rate_limit_store_unavailable', retryAfterMs: 1000 });
    await redis.restart();
  }, 30_000);
});

describe('RedisBudgetStore seeded from the ledger', () => {
  it('seeds a counter Redis lost (eviction) before reserving on it, and rebuilds one on demand', async () => {
    const client = await redis.client();
    const counter = `team:team_${randomUUID().slice(0, 8)}:month:2026-11`;
    const ledgerSpent = new Map([[counter, 900]]);
    const store = new RedisBudgetStore(client, 'gw:', ledger(ledgerSpent));
    const budget: BudgetLimit = { counter, limitNano: 1000, expiresAt: undefined };
    const now = Date.now();
    const request = (amountNano: number) => ({ reservationId: randomUUID(), budgets: [budget], amountNano, leaseUntil: now + 60_000, now });
    // Never seen: 900 already spent by the ledger, so 200 does not fit.
    expect(await store.reserve(request(200))).toMatchObject({ granted: false, spentNano: 900 });
    // Evicted: seeded again.
    await client.del(`gw:budget:{budgets}:${counter}`);
    expect(await store.reserve(request(200))).toMatchObject({ granted: false, spentNano: 900 });
    const fits = request(100);
    expect(await store.reserve(fits)).toMatchObject({ granted: true, amountNano: 100, committedNano: [900] });
    await store.settle(fits.reservationId, [counter], 50);
    // On demand: set to the ledger's figure, even below what Redis holds.
    ledgerSpent.set(counter, 500);
    expect(await store.rebuild(counter, undefined)).toBe(500);
    expect(await store.read([counter], now)).toEqual([{ counter, spentNano: 500, reservedNano: 0 }]);
  });
});
