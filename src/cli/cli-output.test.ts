import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_CLI_BIN, runBuiltCli } from '../../test/node-process.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { createTenantServices } from '../tenants/create-tenant-services.js';

/*
 * What the built CLI writes on its real stdout, as a user or a script reads it: results as the
 * command made them, never rewritten by the secret scrubbing that stderr gets.
 */

const directory = mkdtempSync(join(tmpdir(), 'groundwork-cli-output-'));
const database = `sqlite:${join(directory, 'app.db')}`;
const base = { HOME: directory, LOG_LEVEL: 'silent' };

beforeAll(() => {
  expect(existsSync(BUILT_CLI_BIN), `${BUILT_CLI_BIN} is missing: run npm run build first`).toBe(true);
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  return runBuiltCli(args, { cwd: directory, env: { ...base, ...env }, timeoutMs: 30_000 });
}

/** The key's name when `plain` authenticates against the database, as `groundwork serve` would look it up. */
async function authenticates(plain: string): Promise<string | undefined> {
  const infrastructure = await createInfrastructure({ env: { DATABASE_URL: database }, envFile: false, logger: silentLogger() });
  const tenants = createTenantServices(infrastructure);
  try {
    return (await tenants.directory.resolve(plain))?.key.name;
  } finally {
    await tenants.close();
    await infrastructure.close();
  }
}

const PLAIN_KEY = /^gw-[A-Za-z0-9_-]{43}$/m;

describe('groundwork keys create and rotate', () => {
  it('print the new key, which authenticates; a rotated key replaces the old one', async () => {
    const created = await cli(['keys', 'create', 'x'], { DATABASE_URL: database });
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toMatch(PLAIN_KEY);
    const plain = PLAIN_KEY.exec(created.stdout)?.[0] ?? '';
    expect(await authenticates(plain)).toBe('x');

    const rotated = await cli(['keys', 'rotate', 'x', '--json'], { DATABASE_URL: database });
    expect(rotated).toMatchObject({ code: 0 });
    const { plainKey } = JSON.parse(rotated.stdout) as { plainKey: string };
    expect(plainKey).toMatch(PLAIN_KEY);
    expect(await authenticates(plainKey)).toBe('x');
    expect(await authenticates(plain)).toBeUndefined();
  }, 60_000);
});

describe('groundwork config', () => {
  it('shows a database whose password is "postgres" as it is, with only the password hidden', async () => {
    const result = await cli(['config'], { DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:5432/postgres' });
    expect(result).toMatchObject({ code: 0 });
    const config = JSON.parse(result.stdout) as { database: { dialect: string; displayUrl: string } };
    expect(config.database).toMatchObject({ dialect: 'postgres', displayUrl: 'postgres://postgres:***@127.0.0.1:5432/postgres' });
  }, 30_000);

  it('prints with --markdown exactly the README’s table', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(table).toBeDefined();
    const result = await cli(['config', '--markdown']);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toBe(`${table}\n`);
  }, 30_000);
});
