import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { listCalls } from './call-list.js';
import { insertUsage } from './ledger-seed.test-helpers.js';

describe.each(TENANT_DATABASE_TARGETS)('searching calls on $name', (target) => {
  let opened: TenantDatabase;
  let keyId: string;

  beforeAll(async () => {
    opened = await target.open();
    const { key } = await new TenantRepository(opened.database.db).createKey({ name: 'billing' });
    keyId = key.id;
    const at = new Date(Date.UTC(2026, 2, 10, 12));
    await insertUsage(opened.database.db, [
      { created_at: at, key_id: keyId, outcome: 'rate_limit_exceeded', request_id: 'req_abc' },
      // `_` and `%` match only themselves: these must not be found by `req_abc`, `rate_limit` or `50%`.
      { created_at: at, outcome: 'ratexlimit', request_id: 'reqxabc' },
      { created_at: at, model: 'gpt-50%', request_id: 'req_50' },
      { created_at: at, model: 'gpt-500', request_id: 'req-other' },
    ]);
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  const found = async (search: string) => (await listCalls(opened.database.db, { search })).data;

  it('finds text holding _ or % literally', async () => {
    expect(await found(keyId)).toHaveLength(1);
    expect(await found('RATE_LIMIT')).toHaveLength(1);
    expect((await found('req_abc'))[0]?.requestId).toBe('req_abc');
    expect(await found('req_abc')).toHaveLength(1);
    expect((await found('50%')).map((row) => row.model)).toEqual(['gpt-50%']);
    expect(await found('100%')).toHaveLength(0);
  });

  it("finds a key's calls by the key's name", async () => {
    const rows = await found('BILL');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ keyId, keyName: 'billing', requestId: 'req_abc' });
  });
});
