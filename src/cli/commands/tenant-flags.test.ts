import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-key-flags-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const env = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}` };

async function run(...argv: string[]) {
  const io = recordingIo(env);
  const status = await main(argv, io);
  return { status, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('groundwork keys --expires', () => {
  it('refuses what is not a calendar date, rather than reading it as some other day', async () => {
    await run('keys', 'create', 'expiring');
    // Date() alone reads "3" as March 2001 and rolls 2030-02-31 into March.
    for (const value of ['3', '30', '2030-02-31', 'March 5']) {
      const result = await run('keys', 'update', 'expiring', '--expires', value);
      expect(result.status, value).toBe(1);
      expect(result.err).toContain(`--expires: "${value}" is not a date`);
    }
    const shown = await run('keys', 'show', 'expiring', '--json');
    expect(JSON.parse(shown.out)).toMatchObject([{ expiresAt: null }]);
  });

  it('takes a date, or a date and time', async () => {
    await run('keys', 'create', 'dated');
    const day = await run('keys', 'update', 'dated', '--expires', '2030-01-31', '--json');
    expect(JSON.parse(day.out)).toMatchObject([{ expiresAt: '2030-01-31T00:00:00.000Z' }]);
    const moment = await run('keys', 'update', 'dated', '--expires', '2030-01-31T12:30:00Z', '--json');
    expect(JSON.parse(moment.out)).toMatchObject([{ expiresAt: '2030-01-31T12:30:00.000Z' }]);
    const never = await run('keys', 'update', 'dated', '--expires', 'never', '--json');
    expect(JSON.parse(never.out)).toMatchObject([{ expiresAt: null }]);
  });

  it('refuses a date already past, which would make a key dead from its first call, on create and on update', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const created = await run('keys', 'create', 'stillborn', '--expires', yesterday);
    expect(created.status).toBe(1);
    expect(created.err).toContain(`--expires: "${yesterday}": ${yesterday}T00:00:00.000Z is already past`);
    expect(created.err).toContain('groundwork keys revoke');
    expect(created.err).not.toMatch(/\n\s+at /);
    expect(created.out).toBe('');
    expect((await run('keys', 'list', '--json')).out).not.toContain('stillborn');

    await run('keys', 'create', 'lapsing', '--expires', '2030-01-31');
    const updated = await run('keys', 'update', 'lapsing', '--expires', '2001-01-01T00:00:00Z');
    expect(updated.status).toBe(1);
    expect(updated.err).toContain('--expires: "2001-01-01T00:00:00Z": 2001-01-01T00:00:00.000Z is already past');
    const shown = await run('keys', 'show', 'lapsing', '--json');
    expect(JSON.parse(shown.out)).toMatchObject([{ expiresAt: '2030-01-31T00:00:00.000Z' }]);
  });
});

describe('groundwork keys --models', () => {
  it('refuses a list with no model in it, rather than locking the key out of every model', async () => {
    await run('keys', 'create', 'modelled', '--models', 'gpt-4o-mini');
    // As a script passes an unset variable: --models "$MODELS".
    for (const value of ['', ',', ' , ']) {
      const result = await run('keys', 'update', 'modelled', '--models', value);
      expect(result.status, JSON.stringify(value)).toBe(1);
      expect(result.err).toContain('--models: give model names separated by commas, or any for every model');
    }
    expect((await run('teams', 'create', 'modelless', '--models', '')).status).toBe(1);
    const shown = await run('keys', 'show', 'modelled', '--json');
    expect(JSON.parse(shown.out)).toMatchObject([{ allowedModels: ['gpt-4o-mini'] }]);
    expect((await run('teams', 'list', '--json')).out).not.toContain('modelless');
  });
});

describe('groundwork keys and teams, refusing a setting', () => {
  it('names the flag and the word it takes, not the stored field and null', async () => {
    await run('teams', 'create', 'flagged');
    const rpm = await run('teams', 'update', 'flagged', '--rpm', '1.5');
    expect(rpm.status).toBe(1);
    expect(rpm.err).toContain('--rpm: must be a whole number of at least 1, or none for no limit (got 1.5)');
    expect(rpm.err).not.toContain('requestsPerMinute');
    const budget = await run('keys', 'create', 'flagged-key', '--monthly=-3', '--concurrency', '0');
    expect(budget.status).toBe(1);
    expect(budget.err).toContain('--concurrency: must be a whole number of at least 1, or none for no limit (got 0)');
    expect(budget.err).toContain('--monthly: must be an amount in USD from 0 to 1e9, or none for no budget (got -3)');
    const metadata = await run('keys', 'create', 'flagged-key', '--metadata', '[1]');
    expect(metadata.err).toContain('--metadata: must be a JSON object');
  });
});

describe('groundwork keys and teams, reading numbers', () => {
  it('takes limits and budgets in decimal digits only, rather than reading 0x10 or 1e3 as some other number', async () => {
    for (const [flag, value] of [
      ['--rpm', '0x10'],
      ['--tpm', '1e3'],
      ['--concurrency', '0b1'],
      ['--daily', '1e3'],
      ['--monthly', '0o7'],
      ['--total', 'Infinity'],
      ['--daily', '5 USD'],
    ] as const) {
      const result = await run('keys', 'create', 'hexed', flag, value);
      expect(result.status, `${flag} ${value}`).toBe(1);
      expect(result.err.trim()).toBe(
        `✘ ${flag}: "${value}" is not a number in decimal digits (such as 100 or 2.50); give one, or none for no limit`,
      );
      expect((await run('teams', 'create', 'hexed', flag, value)).status, `${flag} ${value}`).toBe(1);
    }
    expect((await run('keys', 'list', '--json')).out).not.toContain('hexed');
    expect((await run('teams', 'list', '--json')).out).not.toContain('hexed');
    const plain = await run('keys', 'create', 'decimal', '--rpm', '60', '--daily', '2.50', '--monthly', ' .5 ', '--json');
    expect(JSON.parse(plain.out)).toMatchObject({ key: { requestsPerMinute: 60, dailyBudgetUsd: 2.5, monthlyBudgetUsd: 0.5 } });
  });
});

describe('groundwork keys and teams, refusing several flags', () => {
  it('names every bad flag at once, not the first alone', async () => {
    const result = await run('keys', 'create', 'many-wrongs', '--daily', 'lots', '--rpm', 'fast', '--expires', 'soon', '--models', '');
    expect(result.status).toBe(1);
    for (const flag of ['--daily: "lots"', '--rpm: "fast"', '--expires: "soon"', '--models: give']) expect(result.err).toContain(flag);
    const team = await run('teams', 'create', 'many-wrongs', '--tpm', 'x', '--metadata', '{', '--enable', '--disable');
    expect(team.status).toBe(1);
    for (const flag of ['--tpm: "x"', '--metadata: must be', '--enable: give']) expect(team.err).toContain(flag);
    expect((await run('keys', 'list', '--json')).out).not.toContain('many-wrongs');
  });
});
