import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI_BIN, freePort, runNode, TSX_IMPORT } from '../../test/node-process.js';
import { COMMANDS } from './commands.js';
import { main } from './main.js';
import { recordingIo } from './test-io.test-helpers.js';

const RECORD_IMPORTS = fileURLToPath(new URL('../../test/record-imports.mjs', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('groundwork --help, --version and each command’s --help', () => {
  it.each(Object.keys(COMMANDS))('groundwork %s --help prints that command’s usage and exits 0', async (name) => {
    for (const args of [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]) {
      const io = recordingIo({});
      expect(await main(args, io)).toBe(0);
      expect(io.stdout.join('\n')).toContain(`Usage: groundwork ${name}`);
      expect(io.stderr).toEqual([]);
    }
  });

  it('says, for keys and teams, that --models takes a model group by its name', async () => {
    for (const name of ['keys', 'teams']) {
      const io = recordingIo({});
      expect(await main([name, '--help'], io)).toBe(0);
      expect(io.stdout.join('\n')).toMatch(/--models A,B\|any +models the caller may use; a model group counts by its name/);
    }
  });

  it('prints the version with --version and -v', async () => {
    for (const flag of ['--version', '-v']) {
      const io = recordingIo({});
      expect(await main([flag], io)).toBe(0);
      expect(io.stdout).toEqual([VERSION]);
    }
  });

  it('lists every command in the overall usage', async () => {
    const io = recordingIo({});
    expect(await main(['--help'], io)).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(io.stdout.join('\n')).toContain(`  ${name}`);
  });
});

describe('extra arguments', () => {
  it.each([
    [['serve', 'now']],
    [['doctor', 'everything']],
    [['config', 'all']],
    [['migrate', 'up', 'twice']],
    [['prompt', '--file', 'prompt.txt', 'and more']],
    [['fake-provider', '8080']],
  ])('are refused, not ignored: groundwork %j', async (args) => {
    const io = recordingIo({});
    expect(await main(args, io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/Unexpected argument|unexpected argument/);
    expect(io.stderr.join('\n')).toContain(`Usage: groundwork ${args[0]}`);
  });
});

describe('groundwork --help in its own process', () => {
  it('imports no command module and none of the infrastructure', async () => {
    const result = await runNode(CLI_BIN, ['--help'], { nodeArgs: ['--import', RECORD_IMPORTS] });
    expect(result.code).toBe(0);
    const loaded = result.stderr.split('\n').filter((line) => line.startsWith('loaded ') && line.includes('/src/'));
    expect(loaded.some((line) => line.endsWith('/src/cli/main.ts'))).toBe(true);
    expect(loaded.filter((line) => /\/cli\/commands\/|create-infrastructure|\/llm\/|\/db\/|\/server\//.test(line))).toEqual([]);
  });
});

/**
 * Runs `groundwork fake-provider --port N` on a free port until it prints its URLs; if another
 * process took the port first (EADDRINUSE), on another one.
 */
async function fakeProviderOnFreePort(): Promise<{ child: ChildProcess; port: number; stdout: string; exited: Promise<number | null> }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, CLI_BIN, 'fake-provider', '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    let stderr = '';
    const started = await new Promise<boolean>((resolve) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/OPENAI_BASE_URL=.*\n/.test(stdout)) resolve(true);
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      exited.then(() => resolve(false));
    });
    if (started) return { child, port, stdout, exited };
    if (!stderr.includes('EADDRINUSE') || attempt === 5) throw new Error(`the fake provider did not start on port ${port}: ${stderr}`);
  }
}

describe('groundwork fake-provider --port N', () => {
  it('serves the fake provider on that port, models included, until SIGTERM', async () => {
    const { child, port, stdout, exited } = await fakeProviderOnFreePort();
    try {
      expect(stdout).toContain(`OPENAI_BASE_URL=http://127.0.0.1:${port}/v1`);
      const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data.length).toBeGreaterThan(0);
      const answer = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test' },
        body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(answer.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
