import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type DashboardStack, startDashboardStack } from './dashboard-stack.test-helpers.js';
import type { OverviewAnswer, UsageAnswer } from './dashboard-wire.js';
import { insertUsage } from './ledger-seed.test-helpers.js';

/* More keys called in a period than one SQL statement takes parameters (SQLite's 32,766): only the listed keys are named. */

const KEYS = 33_000;
let stack: DashboardStack;

beforeAll(async () => {
  stack = await startDashboardStack();
  const at = new Date(Date.now() - 3_600_000);
  await insertUsage(
    stack.database.db,
    Array.from({ length: KEYS }, (_, index) => ({
      created_at: at,
      key_id: `key_${String(index).padStart(5, '0')}`,
      cost_usd: (index + 1) / 1000,
    })),
  );
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const read = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${stack.url}/admin/api/${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: response.status, body: (await response.json()) as T };
};

describe('the overview and usage over more keys than a statement takes parameters', () => {
  it('lists the costliest keys and sums the rest, from the raw ledger and from the roll-up', async () => {
    for (const range of ['day', 'week']) {
      const overview = await read<OverviewAnswer>(`overview?range=${range}`);
      expect(overview.status, range).toBe(200);
      expect(overview.body.breakdown['key']?.[0], range).toMatchObject({ group: 'key_32999', calls: 1 });
      expect(overview.body.others['key'], range).toMatchObject({ groups: KEYS - 8, calls: KEYS - 8 });
      const usage = await read<UsageAnswer>(`usage?range=${range}&by=key&limit=5`);
      expect(usage.status, range).toBe(200);
      expect(usage.body.data, range).toHaveLength(5);
      expect(usage.body.others, range).toMatchObject({ groups: KEYS - 5 });
      // Every group, each named: the names are read a slice of the keys at a time.
      const every = await read<UsageAnswer>(`usage?range=${range}&by=key`);
      expect(every.status, range).toBe(200);
      expect(every.body.data, range).toHaveLength(KEYS);
    }
  });
});
