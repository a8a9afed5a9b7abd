import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/node-process.js';
import { main } from './main.js';
import { recordingIo } from './test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-cli-errors-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const STACK_FRAME = /^\s+at /m;
const base = { HOME: directory, LOG_LEVEL: 'silent' };

/** The real CLI in its own process: what a user sees. */
async function cli(args: string[], env: Record<string, string>) {
  const result = await runCli(args, { cwd: directory, env: { ...base, ...env }, timeoutMs: 30_000 });
  return { ...result, output: `${result.stdout}\n${result.stderr}` };
}

describe('DEBUG, read as the configuration reads it', () => {
  it('shows no stack when off, and one when on, in the environment or in .env', async () => {
    const env = { DATABASE_URL: 'sqlite::memory:' };
    for (const value of ['off', 'no', 'false', '0']) {
      const result = await cli(['usage', '--since', 'bad'], { ...env, DEBUG: value });
      expect(result.code, `DEBUG=${value}`).toBe(1);
      expect(result.stderr, `DEBUG=${value}`).not.toMatch(STACK_FRAME);
    }
    expect((await cli(['usage', '--since', 'bad'], { ...env, DEBUG: 'on' })).stderr).toMatch(STACK_FRAME);
    const project = join(directory, 'debug-in-dotenv');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, '.env'), 'DEBUG=true\n');
    const fromFile = await runCli(['usage', '--since', 'bad'], { cwd: project, env: { ...base, ...env }, timeoutMs: 30_000 });
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toMatch(STACK_FRAME);
    // The environment wins over .env, as for the configuration.
    const overridden = await runCli(['usage', '--since', 'bad'], {
      cwd: project,
      env: { ...base, ...env, DEBUG: 'off' },
      timeoutMs: 30_000,
    });
    expect(overridden.stderr).not.toMatch(STACK_FRAME);
  }, 60_000);
});

describe('ordinary mistakes get one clear line and a non-zero exit, never a stack trace', () => {
  it('a prompt file that does not exist', async () => {
    const result = await cli(['prompt', '--file', 'missing.txt'], { DATABASE_URL: 'sqlite::memory:' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('✘ Cannot read the prompt from missing.txt: no such file.');
  });

  it('a migration that cannot be imported', async () => {
    const migrations = join(directory, 'migrations');
    mkdirSync(migrations, { recursive: true });
    writeFileSync(join(migrations, '001_broken.js'), 'export async function up( {\n');
    const result = await cli(['migrate', 'down'], {
      DATABASE_URL: `sqlite:${join(directory, 'broken.db')}`,
      DB_MIGRATIONS_DIR: migrations,
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('Cannot load migration 001_broken.js');
    expect(result.output).not.toMatch(STACK_FRAME);
  });

  it('an unknown sslmode in DATABASE_URL, found with the rest of the configuration', async () => {
    const io = recordingIo({ DATABASE_URL: 'postgres://app@127.0.0.1:5432/app?sslmode=bogus', DB_POOL_SIZE: 'x' });
    expect(await main(['migrate', 'status'], io)).toBe(1);
    const output = io.stderr.join('\n');
    expect(output).toMatch(/✘ DATABASE_URL: has an unknown sslmode "bogus"/);
    expect(output).toMatch(/✘ DB_POOL_SIZE/);
    expect(output).not.toMatch(STACK_FRAME);
  });

  it('a port already in use for serve, without announcing a shutdown', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await cli(['serve'], { DATABASE_URL: 'sqlite::memory:', PORT: String(port), LOG_LEVEL: 'info' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/✘ .*EADDRINUSE.*another process is listening there/);
      expect(result.output).not.toMatch(/shutting down|Stopped/);
      expect(result.output).not.toMatch(STACK_FRAME);
    } finally {
      blocker.close();
    }
  });

  it('a SQLite path that cannot be created', async () => {
    writeFileSync(join(directory, 'a-file'), '');
    const result = await cli(['migrate', 'status'], { DATABASE_URL: `sqlite:${join(directory, 'a-file', 'app.db')}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Cannot create the directory .*a-file for the SQLite database \(DATABASE_URL\)/);
    expect(result.output).not.toMatch(STACK_FRAME);
  });

  it('doctor on a SQLite path under /proc fails that check in time instead of spinning', async () => {
    const result = await cli(['doctor'], { DATABASE_URL: 'sqlite:/proc/groundwork-nope/app.db' });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✘ dependencies\s+Cannot create the directory \/proc\/groundwork-nope/);
  });
});
