import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_CLI_BIN, runBuiltCli } from '../../test/node-process.js';
import { freshPostgresDatabase } from '../../test/services.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { createTenantServices } from '../tenants/create-tenant-services.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';

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

describe('groundwork prompt', () => {
  it('prints an answer that starts with "Basic" unchanged', async () => {
    const fake: FakeProviderServer = await startFakeProviderServer();
    try {
      const answer = 'Basic income is a payment to every citizen; Bearer bonds pay whoever holds them.';
      fake.enqueue({ type: 'answer', content: answer });
      const result = await cli(['prompt', 'What is basic income?'], {
        DATABASE_URL: database,
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-cli-output-0000000000000000',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        LLM_CACHE: 'off',
      });
      expect(result).toMatchObject({ code: 0 });
      expect(result.stdout.split('\n')[0]).toBe(answer);
    } finally {
      await fake.close();
    }
  }, 30_000);
});

/*
 * Every command's output, stdout and stderr, with a canary in each secret: stdout is not scrubbed,
 * so no command may print a secret there but as a `Secret` (which prints `[redacted]`).
 */
describe('secrets in what the CLI prints', () => {
  const KEY = 'sk-cli-canary-5c1e8a3f9d7b2e60';
  const DB_PASSWORD = 'pg-cli-canary-3f7a9c21';
  const ADMIN_KEY = 'gw-admin-cli-canary-8b2d6e4f';
  const CALLER_KEY = 'caller-cli-canary-1a9e7c35';
  const CANARIES = [KEY, DB_PASSWORD, ADMIN_KEY, CALLER_KEY];

  it('appear in no command’s output', async () => {
    const postgres = await freshPostgresDatabase('cli_canary');
    const fake = await startFakeProviderServer();
    try {
      const url = new URL(postgres.url);
      url.username = 'postgres';
      url.password = DB_PASSWORD;
      const env = {
        DATABASE_URL: url.toString(),
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: KEY,
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        GROUNDWORK_ADMIN_KEY: ADMIN_KEY,
        GROUNDWORK_API_KEYS: CALLER_KEY,
        LLM_CACHE: 'off',
      };
      const commands = [
        ['config'],
        ['doctor'],
        ['doctor', '--json'],
        ['migrate', 'up', '--json'],
        ['migrate', 'status'],
        ['prompt', 'hello', '--json'],
        ['prompt', 'hello'],
        ['teams', 'create', 'canary-team', '--json'],
        ['keys', 'create', 'canary-key', '--team', 'canary-team'],
        ['keys', 'list', '--json'],
        ['teams', 'list'],
        ['usage', '--by', 'key', '--json'],
        ['usage', '--by', 'model'],
        ['jobs', 'status'],
        ['jobs', 'list', '--json'],
        ['dashboard', 'rollup', '--json'],
        ['no-such-command'],
      ];
      for (const command of commands) {
        const result = await cli(command, env);
        expect(result.code, `groundwork ${command.join(' ')}: ${result.stderr}`).toBe(command[0] === 'no-such-command' ? 2 : 0);
        for (const canary of CANARIES) {
          expect(result.stdout, `groundwork ${command.join(' ')} prints ${canary} on stdout`).not.toContain(canary);
          expect(result.stderr, `groundwork ${command.join(' ')} prints ${canary} on stderr`).not.toContain(canary);
        }
      }
      const doctor = await cli(['doctor', '--json'], env);
      expect(doctor.stdout).toMatch(/reachable \(postgres/);
      // serve: its start and stop lines on stderr, its log (at debug) on stdout.
      const serve = spawn(process.execPath, [BUILT_CLI_BIN, 'serve'], {
        cwd: directory,
        env: { PATH: process.env.PATH ?? '', ...base, ...env, LOG_LEVEL: 'debug', PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const served = { stdout: '', stderr: '' };
      serve.stdout.on('data', (chunk: Buffer) => {
        served.stdout += chunk.toString();
      });
      const closed = once(serve, 'close');
      await new Promise<void>((resolve) => {
        serve.stderr.on('data', (chunk: Buffer) => {
          served.stderr += chunk.toString();
          if (served.stderr.includes('Groundwork listening')) resolve();
        });
        void closed.then(() => resolve());
      });
      serve.kill('SIGTERM');
      await closed;
      expect(served.stderr).toContain('Stopped.');
      expect(served.stdout).toContain('"level":"debug"');
      for (const canary of CANARIES) {
        expect(served.stdout, `groundwork serve logs ${canary}`).not.toContain(canary);
        expect(served.stderr, `groundwork serve prints ${canary}`).not.toContain(canary);
      }
    } finally {
      await fake.close();
      await postgres.drop();
    }
  }, 120_000);
});

/*
 * A result larger than a pipe holds (64 KiB): 400 teams, about 160 KiB as JSON, through a shell's
 * pipe to a reader that is slow, or that leaves after the first line. The CLI's status goes to stderr.
 */
describe('a large result on a pipe', () => {
  const teams = `sqlite:${join(directory, 'teams.db')}`;

  beforeAll(async () => {
    const infrastructure = await createInfrastructure({ env: { DATABASE_URL: teams }, envFile: false, logger: silentLogger() });
    await infrastructure.initDb();
    const tenants = createTenantServices(infrastructure);
    try {
      for (let index = 0; index < 400; index++) await tenants.repository.createTeam({ name: `team-${index}` });
    } finally {
      await tenants.close();
      await infrastructure.close();
    }
  }, 60_000);

  /** `groundwork <args> | <reader>` in a shell; stdout is the reader's, stderr the CLI's with its status last. */
  async function pipeline(args: string, reader: string): Promise<{ stdout: string; stderr: string }> {
    const child = spawn('sh', ['-c', `{ "$0" "$1" ${args}; echo "status $?" >&2; } | { ${reader}; }`, process.execPath, BUILT_CLI_BIN], {
      cwd: directory,
      env: { PATH: process.env.PATH ?? '', ...base, DATABASE_URL: teams },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    await once(child, 'close');
    return { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
  }

  it('arrives whole to a reader that starts reading only after a second', async () => {
    // Cut off or not, an exit that does not wait may depend on timing: four runs, each of which must arrive whole.
    for (let run = 0; run < 4; run++) {
      const result = await pipeline('teams list --json', 'sleep 1; cat');
      expect(result.stderr).toBe('status 0\n');
      expect(result.stdout.length).toBeGreaterThan(2 * 65_536);
      expect(JSON.parse(result.stdout)).toHaveLength(400);
    }
  }, 30_000);

  it('ends quietly, with status 0, when the reader leaves after the first line', async () => {
    for (const args of ['teams list', 'teams list --json']) {
      const result = await pipeline(args, 'head -1');
      expect(result.stdout).toMatch(/^(NAME|\[)/);
      expect(result.stderr).toBe('status 0\n');
    }
  }, 30_000);
});

/* stdout on a device that refuses every write (`/dev/full`: no space left): the result is lost, and the exit says so. */
describe.skipIf(!existsSync('/dev/full'))('a result that cannot be written', () => {
  it('is one line on stderr and exit status 1', async () => {
    for (const args of [['--version'], ['config']]) {
      const full = openSync('/dev/full', 'w');
      try {
        const child = spawn(process.execPath, [BUILT_CLI_BIN, ...args], {
          cwd: directory,
          env: { PATH: process.env.PATH ?? '', ...base, DATABASE_URL: 'sqlite::memory:' },
          stdio: ['ignore', full, 'pipe'],
        });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        const [code] = (await once(child, 'close')) as [number];
        expect({ args, code, stderr }).toEqual({
          args,
          code: 1,
          stderr: expect.stringMatching(/^✘ The output could not be written: .*ENOSPC.*\n$/),
        });
      } finally {
        closeSync(full);
      }
    }
  }, 30_000);
});
