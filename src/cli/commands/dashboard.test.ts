import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticLedger } from '../../dashboard/ledger-seed.test-helpers.js';
import { createDatabase } from '../../db/create-database.js';
import { databaseConfig } from '../../db/database-contract.test-helpers.js';
import type { GroundworkTables } from '../../db/groundwork-tables.js';
import { silentLogger } from '../../observability/logger.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-dashboard-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('groundwork dashboard rollup', () => {
  it('rolls up ledger rows written around the ledger, in full or since an age', async () => {
    const url = `sqlite:${join(directory, 'ledger.db')}`;
    const database = await createDatabase<GroundworkTables>(databaseConfig(url), { logger: silentLogger() });
    try {
      await database.migrate('up');
      const now = Date.now();
      // Written straight into llm_usage, as a backfill would: the roll-up does not see them yet.
      const rows = syntheticLedger({ count: 400, fromMs: now - 10 * 86_400_000, toMs: now, keyIds: ['key_a'] });
      await database.db
        .insertInto('llm_usage')
        .values(rows.map((row) => ({ cached_prompt_tokens: 0, reasoning_tokens: 0, ...row })) as never)
        .execute();
      const rolledCalls = async () =>
        Number(
          (await sql<{ calls: number | null }>`select sum(calls) as calls from llm_usage_hourly_model`.execute(database.db)).rows[0]
            ?.calls ?? 0,
        );
      expect(await rolledCalls()).toBe(0);

      const recent = recordingIo({ DATABASE_URL: url });
      expect(await main(['dashboard', 'rollup', '--since', '2d', '--json'], recent)).toBe(0);
      const answer = JSON.parse(recent.stdout.join('\n')) as { from: string; rollupRows: number };
      expect(answer.rollupRows).toBeGreaterThan(0);
      const since = new Date(answer.from);
      expect(await rolledCalls()).toBe(rows.filter((row) => row.created_at >= since).length);

      const full = recordingIo({ DATABASE_URL: url });
      expect(await main(['dashboard', 'rollup'], full)).toBe(0);
      expect(full.stdout.join('\n')).toMatch(/Rolled up the usage ledger in full: \d+ hourly rows/);
      expect(await rolledCalls()).toBe(400);
    } finally {
      await database.close();
    }
  });

  it('refuses an unknown action with its usage', async () => {
    const io = recordingIo({ DATABASE_URL: 'sqlite::memory:' });
    expect(await main(['dashboard', 'rebuild'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('use rollup');
  });
});
