import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Database } from './database.js';
import { type ContractTables, openContractDatabase } from './database-contract.test-helpers.js';
import { SessionRunner } from './session-runner.js';

describe('the pooled query builder', () => {
  let database: Database<ContractTables> | undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    await database?.close();
    database = undefined;
  });

  it("sends its plain queries down the session runner's one-checkout path, and queries with plugins down Kysely's", async () => {
    database = await openContractDatabase('sqlite::memory:');
    await database.migrate('up');
    const onPool = vi.spyOn(SessionRunner.prototype, 'onPool');
    const query = database.db.selectFrom('note').select('id').where('id', '=', 'none');
    expect(await query.execute()).toEqual([]);
    expect(await query.execute()).toEqual([]);
    expect(onPool).toHaveBeenCalledTimes(2);
    expect(onPool.mock.calls[1]?.[0].sql).toBe(query.compile().sql);
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows).toEqual([{ one: 1 }]);
    expect(onPool).toHaveBeenCalledTimes(3);
    // A plugin makes another executor over Kysely's connection provider: not routed, still answered.
    expect(
      await database.db
        .withPlugin({ transformQuery: (args) => args.node, transformResult: async (args) => args.result })
        .selectFrom('note')
        .select('id')
        .execute(),
    ).toEqual([]);
    expect(onPool).toHaveBeenCalledTimes(3);
  });
});
