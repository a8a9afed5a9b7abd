import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { listCalls } from './call-list.js';
import { insertUsage } from './ledger-seed.test-helpers.js';

/* The call list is newest first by time: rows are not always written in the order their calls began. */

const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);

describe.each(TENANT_DATABASE_TARGETS)('the call list on $name', (target) => {
  let opened: TenantDatabase;

  beforeAll(async () => {
    opened = await target.open();
    const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000);
    // Written in this order (ids 1 to 5); the models name the time: a long call written after a short one that began later.
    await insertUsage(opened.database.db, [
      { created_at: at(1), model: 'one-minute-ago' },
      { created_at: at(30), model: 'thirty-minutes-ago' },
      { created_at: at(5), model: 'five-minutes-ago' },
      { created_at: at(5), model: 'five-minutes-ago-written-later' },
      { created_at: at(60), model: 'an-hour-ago' },
    ]);
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  it('lists calls newest first by time, then by id, on every page', async () => {
    const models: string[] = [];
    let before: number | undefined;
    for (let page = 0; page < 5; page++) {
      const listed = await listCalls(opened.database.db, { limit: 2, before });
      models.push(...listed.data.map((row) => row.model));
      before = listed.next;
      if (before === undefined) break;
    }
    expect(models).toEqual(['one-minute-ago', 'five-minutes-ago-written-later', 'five-minutes-ago', 'thirty-minutes-ago', 'an-hour-ago']);
    const newest = await listCalls(opened.database.db, { limit: 5 });
    const times = newest.data.map((row) => row.createdAt);
    expect(times).toEqual([...times].sort().reverse());
  });
});
