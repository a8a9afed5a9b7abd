import { budgetStoreContract } from './budget-store.cases.js';
import { MemoryBudgetStore } from './memory-budget-store.js';

budgetStoreContract('Memory', () => {
  const store = new MemoryBudgetStore();
  // One process: its other "replica" is itself.
  return { store, other: store };
});
