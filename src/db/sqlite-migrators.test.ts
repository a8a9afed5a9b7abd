import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./migrate-process.test-helpers.ts', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'groundwork-migrators-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('SQLite migrations from two processes at once', () => {
  it('runs them once: one process applies everything, the other waits and finds nothing to do', async () => {
    const file = join(directory, 'shared.db');
    const outputs = await Promise.all(
      [1, 2].map(async () => {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', script, file], { timeout: 30_000 });
        return JSON.parse(stdout) as string[];
      }),
    );
    // Every migration ran exactly once across the two processes.
    const applied = outputs.flat().sort();
    expect(applied).toEqual([
      'app/001_note',
      'app/002_note_index',
      'app/003_slow',
      'groundwork/0001_llm_usage',
      'groundwork/0002_llm_usage_operation',
      'groundwork/0003_tenants',
      'groundwork/0004_llm_usage_tenant',
      'groundwork/0005_budget_counters',
      'groundwork/0006_jobs',
      'groundwork/0007_llm_usage_deployment',
      'groundwork/0008_llm_usage_hourly',
      'groundwork/0009_llm_usage_content',
      'groundwork/0010_llm_usage_hourly_narrow',
      'groundwork/0011_budget_counter_expiry',
      'groundwork/0012_llm_usage_rollup_calls',
    ]);
  });
});
