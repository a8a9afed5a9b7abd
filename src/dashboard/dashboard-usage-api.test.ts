import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type DashboardStack, startDashboardStack } from './dashboard-stack.test-helpers.js';
import type { OverviewAnswer, UsageAnswer } from './dashboard-wire.js';
import { insertUsage } from './ledger-seed.test-helpers.js';

const KEYS = 105;
let stack: DashboardStack;
let ledgerCost = 0;

beforeAll(async () => {
  stack = await startDashboardStack();
  const at = new Date(Date.now() - 3_600_000);
  const rows = Array.from({ length: KEYS }, (_, index) => ({
    created_at: at,
    key_id: `key_${String(index).padStart(3, '0')}`,
    cost_usd: (index + 1) / 100,
    total_tokens: index + 1,
  }));
  ledgerCost = rows.reduce((sum, row) => sum + row.cost_usd, 0);
  await insertUsage(stack.database.db, rows);
});

afterAll(async () => {
  await stack?.close();
});

async function usage(query: string): Promise<{ status: number; body: UsageAnswer & { error?: { message: string } } }> {
  const response = await fetch(`${stack.url}/admin/api/usage?${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: response.status, body: (await response.json()) as UsageAnswer & { error?: { message: string } } };
}

describe('GET /admin/api/usage', () => {
  it('answers every group, from the raw ledger and from the roll-up', async () => {
    for (const range of ['day', 'week']) {
      const { status, body } = await usage(`range=${range}&by=key`);
      expect(status, range).toBe(200);
      expect(body.data, range).toHaveLength(KEYS);
      expect(body.others, range).toBeNull();
      expect(body.data.reduce((sum, row) => sum + row.costUsd, 0)).toBeCloseTo(ledgerCost, 9);
      expect(body.data[0]).toMatchObject({ group: 'key_104', calls: 1, costUsd: 1.05 });
    }
  });

  it('with a limit, sums the groups it leaves out', async () => {
    const { status, body } = await usage('range=day&by=key&limit=10');
    expect(status).toBe(200);
    expect(body.data).toHaveLength(10);
    expect(body.others).toMatchObject({ groups: KEYS - 10, calls: KEYS - 10 });
    expect(body.data.reduce((sum, row) => sum + row.costUsd, 0) + (body.others?.costUsd ?? 0)).toBeCloseTo(ledgerCost, 9);
    expect(body.data.reduce((sum, row) => sum + row.tokens, 0) + (body.others?.tokens ?? 0)).toBe((KEYS * (KEYS + 1)) / 2);
  });

  it("has the overview name the groups past its table's first eight, so that its rows and others add up to the period", async () => {
    for (const range of ['day', 'week']) {
      const response = await fetch(`${stack.url}/admin/api/overview?range=${range}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = (await response.json()) as OverviewAnswer;
      expect(body.breakdown['key'], range).toHaveLength(8);
      expect(body.others['key'], range).toMatchObject({ groups: KEYS - 8, calls: KEYS - 8 });
      const listed = (body.breakdown['key'] ?? []).reduce((sum, row) => sum + row.costUsd, 0);
      expect(listed + (body.others['key']?.costUsd ?? 0), range).toBeCloseTo(ledgerCost, 9);
      // One model: nothing left out.
      expect(body.breakdown['model'], range).toHaveLength(1);
      expect(body.others['model'], range).toBeNull();
    }
  });

  it('names a limit that is not a positive whole number', async () => {
    const { status, body } = await usage('by=key&limit=0');
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(/^Invalid limit: "0" is not a positive whole number/);
  });
});
