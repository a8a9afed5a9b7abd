import { describe, expect, it, vi } from 'vitest';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { StoreFailover } from '../resilience/store-failover.js';
import { ManualClock } from '../testing/manual-clock.js';
import { type BudgetLimit, type BudgetStore, SETTLED_MARKER_MS } from './budget-store.js';
import { FailoverBudgetStore } from './failover-budget-store.js';
import { MemoryBudgetStore } from './memory-budget-store.js';
import { BudgetStoreUnavailableError } from './tenant-refusals.js';

const budget: BudgetLimit = { counter: 'key:key_a:total', limitNano: 1_000_000, expiresAt: undefined };
const t0 = Date.parse('2026-11-30T12:00:00Z');

async function failures(metrics: GroundworkMetrics): Promise<number> {
  return (await metrics.storeFailures.get()).values.find((value) => value.labels.component === 'tenant_budget')?.value ?? 0;
}

/**
 * A shared store over `inner` that a test breaks: `down` refuses every operation; `loseNextSettle`
 * applies the next settlement and then fails it, as a connection closed before its answer was read.
 */
function breakable(inner: MemoryBudgetStore) {
  const state = { down: false, loseNextSettle: false, hang: false, asked: 0 };
  const refuse = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  const hung = () => new Promise<never>(() => {});
  const shared: BudgetStore = {
    reserve: (request) => {
      state.asked++;
      if (state.hang) return hung();
      return state.down ? refuse() : inner.reserve(request);
    },
    read: (counters, now) => {
      state.asked++;
      if (state.hang) return hung();
      return state.down ? refuse() : inner.read(counters, now);
    },
    async settle(reservationId, counters, spentNano, now, options) {
      state.asked++;
      if (state.hang) return hung();
      if (state.down) return refuse();
      await inner.settle(reservationId, counters, spentNano, now, options);
      if (state.loseNextSettle) {
        state.loseNextSettle = false;
        throw new Error('Connection is closed.');
      }
    },
  };
  return { shared, state };
}

function failoverOver(shared: BudgetStore, options: { clock?: ManualClock; retryMs?: number; timeoutMs?: number } = {}) {
  const { logger, records } = captureLogger('info');
  const metrics = new GroundworkMetrics();
  const clock = options.clock ?? new ManualClock(t0);
  const failover = new StoreFailover({
    component: 'tenant_budget',
    logger,
    metrics,
    clock,
    retryMs: options.retryMs ?? 50,
    timeoutMs: options.timeoutMs ?? 500,
  });
  const store = new FailoverBudgetStore({ shared, local: new MemoryBudgetStore(), failover, replicas: 1, logger, metrics, clock });
  return { store, records, metrics, clock };
}

const reserve = (store: FailoverBudgetStore, reservationId: string, amountNano: number, now: number) =>
  store.reserve({ reservationId, budgets: [budget], amountNano, leaseUntil: now + 60_000, now });

describe('FailoverBudgetStore replaying what the shared store missed', () => {
  it("drops, logged and counted, a settlement whose fate is unknown once the store's settled marker may have lapsed, rather than count it twice", async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const { store, records, metrics } = failoverOver(shared);
    expect((await reserve(store, 'a', 100, t0)).granted).toBe(true);
    // Applied by the shared store, but the connection closed before its answer was read.
    state.loseNextSettle = true;
    await store.settle('a', [budget.counter], 100, t0 + 1000);
    expect(store.pending).toBe(1);
    // The next call comes 11 minutes later: the marker that made the replay harmless is gone.
    const later = t0 + 11 * 60_000;
    await reserve(store, 'b', 1, later);
    expect((await inner.read([budget.counter], later))[0]?.spentNano).toBe(100);
    expect(store.pending).toBe(0);
    expect(records.filter((record) => String(record.msg).includes('older than the shared store remembers'))).toHaveLength(1);
    expect(await failures(metrics)).toBe(2);
  });

  it('replays a settlement whose fate is unknown while the marker still guards it, counted once', async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const { store } = failoverOver(shared);
    await reserve(store, 'a', 100, t0);
    state.loseNextSettle = true;
    await store.settle('a', [budget.counter], 100, t0 + 1000);
    const later = t0 + 1000 + SETTLED_MARKER_MS - 61_000;
    await reserve(store, 'b', 1, later);
    expect((await inner.read([budget.counter], later))[0]?.spentNano).toBe(100);
    expect(store.pending).toBe(0);
  });

  it('replays the spend of a local share however long the outage lasted: the shared store never saw it', async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const { store, records } = failoverOver(shared);
    state.down = true;
    expect((await reserve(store, 'a', 100, t0)).granted).toBe(true);
    expect(store.onLocal).toBe(true);
    await store.settle('a', [budget.counter], 70, t0 + 1000);
    // A failed replay midway: refused, so never sent.
    await reserve(store, 'b', 1, t0 + 5 * 60_000);
    state.down = false;
    const later = t0 + 30 * 60_000;
    await reserve(store, 'c', 1, later);
    expect((await inner.read([budget.counter], later))[0]?.spentNano).toBe(70);
    expect(records.filter((record) => String(record.msg).includes('Dropped'))).toHaveLength(0);
  });
});

describe('FailoverBudgetStore at close', () => {
  it('replays what it keeps once more, and lands it when the shared store answers', async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const { store, records, metrics } = failoverOver(shared);
    await reserve(store, 'a', 100, t0);
    state.down = true;
    await store.settle('a', [budget.counter], 100, t0 + 1000);
    expect(store.pending).toBe(1);
    state.down = false;
    await store.close();
    expect(store.pending).toBe(0);
    expect((await inner.read([budget.counter], t0 + 2000))[0]?.spentNano).toBe(100);
    expect(records.filter((record) => String(record.msg).includes('Dropped'))).toHaveLength(0);
    expect(await failures(metrics)).toBe(1);
  });

  it('drops what the shared store still refuses, with one log line giving their number, and counts them', async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const { store, records, metrics } = failoverOver(shared);
    await reserve(store, 'a', 100, t0);
    await reserve(store, 'b', 100, t0);
    state.down = true;
    await store.settle('a', [budget.counter], 100, t0 + 1000);
    await store.settle('b', [budget.counter], 50, t0 + 1000);
    const before = await failures(metrics);
    await store.close();
    expect(store.pending).toBe(0);
    const dropped = records.filter((record) => String(record.msg).includes('the process is closing'));
    expect(dropped).toEqual([expect.objectContaining({ kept: 2, spentNano: 150 })]);
    expect(await failures(metrics)).toBe(before + 2);
  });

  it('waits for a shared store that does not answer no longer than its time bound, and reports what it held', async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const clock = new ManualClock(t0);
    const { store, records } = failoverOver(shared, { clock, timeoutMs: 500 });
    await reserve(store, 'a', 100, t0);
    state.down = true;
    await store.settle('a', [budget.counter], 100, t0 + 1000);
    state.down = false;
    state.hang = true;
    let closed = false;
    const closing = store.close().then(() => {
      closed = true;
    });
    await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(0));
    expect(closed).toBe(false);
    clock.advance(500);
    await closing;
    expect(records.filter((record) => String(record.msg).includes('the process is closing'))).toEqual([
      expect.objectContaining({ kept: 1 }),
    ]);
  });
  it('reports what a hung replay held once, however many closes wait for it', async () => {
    const { shared, state } = breakable(new MemoryBudgetStore());
    const clock = new ManualClock(t0);
    const { store, records, metrics } = failoverOver(shared, { clock, timeoutMs: 500 });
    await reserve(store, 'a', 100, t0);
    state.down = true;
    await store.settle('a', [budget.counter], 100, t0 + 1000);
    state.down = false;
    state.hang = true;
    const before = await failures(metrics);
    const closing = Promise.all([store.close(), store.close()]);
    await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(0));
    clock.advance(500);
    await closing;
    expect(records.filter((record) => String(record.msg).includes('the process is closing'))).toEqual([
      expect.objectContaining({ kept: 1 }),
    ]);
    expect(await failures(metrics)).toBe(before + 1);
  });
});

describe('FailoverBudgetStore with a shared store that hangs', () => {
  it('leaves it alone for the retry time after its timeout, rather than wait out the timeout on every call', async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const clock = new ManualClock(t0);
    const { store } = failoverOver(shared, { clock, retryMs: 1000, timeoutMs: 2000 });
    state.hang = true;
    const first = reserve(store, 'a', 10, clock.now());
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1));
    clock.advance(2000);
    expect((await first).granted).toBe(true);
    expect(store.onLocal).toBe(true);
    // Within the retry time after the failure: answered from the local share, the shared store not asked.
    clock.advance(500);
    const second = reserve(store, 'b', 10, clock.now());
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.asked).toBe(1);
    clock.advance(2000);
    expect((await second).granted).toBe(true);
  });
});

describe('FailoverBudgetStore and reservations settled by another process', () => {
  it('refuses a reservation asked of the shared store only, while that store is away, rather than admit it from the local share', async () => {
    const inner = new MemoryBudgetStore();
    const { shared, state } = breakable(inner);
    const { store } = failoverOver(shared);
    state.down = true;
    const refused = store.reserve({
      reservationId: 'batch:1',
      budgets: [budget],
      amountNano: 500,
      leaseUntil: t0 + 30 * 3_600_000,
      now: t0,
      sharedOnly: true,
    });
    await expect(refused).rejects.toBeInstanceOf(BudgetStoreUnavailableError);
    await expect(refused).rejects.toThrow(/settled by another process/);
    // Refused again during the retry time, without asking the shared store.
    const asked = state.asked;
    await expect(
      store.reserve({
        reservationId: 'batch:2',
        budgets: [budget],
        amountNano: 500,
        leaseUntil: t0 + 1000,
        now: t0 + 10,
        sharedOnly: true,
      }),
    ).rejects.toBeInstanceOf(BudgetStoreUnavailableError);
    expect(state.asked).toBe(asked);
    // Once the store answers, made there, where any process settles it.
    state.down = false;
    const later = t0 + 1000;
    expect(
      await store.reserve({
        reservationId: 'batch:3',
        budgets: [budget],
        amountNano: 500,
        leaseUntil: later + 1000,
        now: later,
        sharedOnly: true,
      }),
    ).toMatchObject({ granted: true });
    const worker = failoverOver(inner).store;
    await worker.settle('batch:3', [budget.counter], 400, later + 100, { once: true });
    expect((await inner.read([budget.counter], later + 100))[0]).toMatchObject({ spentNano: 400, reservedNano: 0 });
  });

  it('refuses such a reservation without advising LLM_RATE_LIMIT_ON_STORE_FAILURE=local, which would not admit it either', async () => {
    const { shared, state } = breakable(new MemoryBudgetStore());
    const { logger } = captureLogger('info');
    const clock = new ManualClock(t0);
    const failover = new StoreFailover({ component: 'tenant_budget', logger, metrics: undefined, clock, retryMs: 50, timeoutMs: 500 });
    const store = new FailoverBudgetStore({ shared, local: undefined, failover, replicas: 1, logger, clock });
    state.down = true;
    const refused = store.reserve({
      reservationId: 'batch:1',
      budgets: [budget],
      amountNano: 500,
      leaseUntil: t0 + 1000,
      now: t0,
      sharedOnly: true,
    });
    await expect(refused).rejects.toThrow(/settled by another process/);
    await expect(refused).rejects.not.toThrow(/"local"/);
  });
});
