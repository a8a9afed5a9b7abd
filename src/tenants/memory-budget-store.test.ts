import { describe, expect, it } from 'vitest';
import { budgetStoreContract } from './budget-store.cases.js';
import { SETTLED_MARKER_MS } from './budget-store.js';
import { MemoryBudgetStore } from './memory-budget-store.js';

budgetStoreContract('Memory', () => {
  const store = new MemoryBudgetStore();
  // One process: its other "replica" is itself.
  return { store, other: store };
});

describe('MemoryBudgetStore settled markers', () => {
  it('forgets a call’s marker after SETTLED_MARKER_MS even when a batch’s longer-lived marker came before it', async () => {
    const store = new MemoryBudgetStore();
    const counter = 'key:k:total';
    const budgets = [{ counter, limitNano: 1e12, expiresAt: undefined }];
    const t0 = 1_000_000;
    // A batch: its lease, and so its marker, runs a day.
    await store.reserve({ reservationId: 'batch', budgets, amountNano: 10, leaseUntil: t0 + 86_400_000, now: t0 });
    await store.settle('batch', [counter], 10, t0);
    await store.reserve({ reservationId: 'call', budgets, amountNano: 5, leaseUntil: t0 + 60_000, now: t0 });
    await store.settle('call', [counter], 5, t0);
    // Within the marker's life a repeat counts nothing.
    await store.settle('call', [counter], 5, t0 + 1_000);
    expect((await store.read([counter], t0 + 1_000))[0]?.spentNano).toBe(15);
    // After it, the marker is gone (a repeat is counted again: nothing remembers the call any more).
    await store.settle('call', [counter], 5, t0 + SETTLED_MARKER_MS + 1);
    expect((await store.read([counter], t0 + SETTLED_MARKER_MS + 1))[0]?.spentNano).toBe(20);
    // The batch's marker still holds.
    await store.settle('batch', [counter], 10, t0 + SETTLED_MARKER_MS + 1);
    expect((await store.read([counter], t0 + SETTLED_MARKER_MS + 1))[0]?.spentNano).toBe(20);
  });
});
