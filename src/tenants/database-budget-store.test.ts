import { afterAll, beforeAll, describe } from 'vitest';
import type { Database } from '../db/database.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { budgetStoreContract } from './budget-store.cases.js';
import { DatabaseBudgetStore } from './database-budget-store.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from './tenant-databases.test-helpers.js';

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
});
