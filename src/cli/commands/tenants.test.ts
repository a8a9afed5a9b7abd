import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-keys-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const env = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}` };

async function run(...argv: string[]) {
  const io = recordingIo(env);
  const status = await main(argv, io);
  return { status, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('groundwork keys and teams', () => {
  it('creates a team and a key in it, prints the plain key once, then lists and shows them without it', async () => {
    expect((await run('teams', 'create', 'search', '--monthly', '100', '--tpm', '50000')).status).toBe(0);
    const created = await run('keys', 'create', 'search-api', '--team', 'search', '--daily', '2.5', '--models', 'gpt-4o-mini,gpt-4o');
    expect(created.status).toBe(0);
    const plain = /gw-[A-Za-z0-9_-]{43}/.exec(created.out)?.[0];
    expect(plain).toBeDefined();
    expect(created.err).toContain('shown this once');
    const listed = await run('keys', 'list');
    expect(listed.out).toContain('search-api');
    expect(listed.out).toContain('$2.5');
    expect(listed.out).not.toContain(plain);
    const shown = await run('keys', 'show', 'search-api', '--json');
    expect(JSON.parse(shown.out)).toMatchObject([{ name: 'search-api', dailyBudgetUsd: 2.5, allowedModels: ['gpt-4o-mini', 'gpt-4o'] }]);
    expect(shown.out).not.toContain(plain);
  });

  it('updates, rotates and revokes a key', async () => {
    await run('keys', 'create', 'batch');
    const updated = await run('keys', 'update', 'batch', '--rpm', '60', '--daily', 'none', '--disable', '--json');
    expect(JSON.parse(updated.out)).toMatchObject([{ requestsPerMinute: 60, dailyBudgetUsd: null, enabled: false }]);
    const rotated = await run('keys', 'rotate', 'batch', '--json');
    expect(JSON.parse(rotated.out).plainKey).toMatch(/^gw-/);
    const revoked = await run('keys', 'revoke', 'batch');
    expect(revoked.out).toContain('revoked');
  });

  it("rebuilds a key's budget counters from the usage ledger", async () => {
    await run('keys', 'create', 'rebuilt', '--daily', '2', '--total', '10');
    const rebuilt = await run('keys', 'rebuild-budgets', 'rebuilt', '--json');
    expect(rebuilt.status).toBe(0);
    const budgets = JSON.parse(rebuilt.out) as Array<{ counter: string; limitUsd: number; spentUsd: number }>;
    expect(budgets.map((budget) => [budget.counter.split(':')[2], budget.limitUsd, budget.spentUsd])).toEqual([
      ['day', 2, 0],
      ['total', 10, 0],
    ]);
    expect((await run('teams', 'rebuild-budgets', 'nobody')).err).toContain('No team');
  });

  it('says what is wrong, without a stack trace, for ordinary mistakes', async () => {
    const missing = await run('keys', 'show', 'nobody');
    expect(missing.status).toBe(1);
    expect(missing.err).toContain('No key is named or has the id "nobody"');
    expect(missing.err).not.toMatch(/\n\s+at /);
    const bad = await run('keys', 'create', 'bad', '--daily', 'lots');
    expect(bad.status).toBe(1);
    expect(bad.err).toContain('--daily');
    const taken = await run('teams', 'create', 'search');
    expect(taken.err).toContain('already exists');
    expect((await run('keys')).status).toBe(2);
    expect((await run('keys', 'fly', 'x')).err).toContain('unknown keys action');
  });
});

describe('groundwork usage', () => {
  it('prints spend by key from the ledger, as a table or JSON', async () => {
    const table = await run('usage', '--by', 'model', '--since', '7d');
    expect(table.status).toBe(0);
    expect(table.out).toContain('COST USD');
    const json = await run('usage', '--by', 'key', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ by: 'key', rows: [] });
    expect((await run('usage', '--by', 'colour')).status).toBe(2);
    const since = await run('usage', '--since', 'forever');
    expect(since.status).toBe(1);
    expect(since.err).toContain('--since: "forever" is not a duration');
    const tooLong = await run('usage', '--since', '99999999999w');
    expect(tooLong.status).toBe(1);
    expect(tooLong.err).toContain('--since: "99999999999w" is longer than 100 years');
    expect(tooLong.err).not.toMatch(/RangeError|\n\s+at /);
  });
});
