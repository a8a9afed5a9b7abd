import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Runs `body` in a child process with `logger` built to hold stdout lines for `holdMs`. */
function run(body: string, holdMs = 60_000) {
  const script = `import { createLogger } from './src/observability/logger.ts';
    const logger = createLogger({ level: 'info', format: 'json' }, { holdLinesMs: ${holdMs} });
    ${body}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
}

/** Runs `script` in a child process with stdout and stderr written to one file, in the order written; returns its text. */
function runMerged(script: string): { status: number | null; output: string } {
  const directory = mkdtempSync(join(tmpdir(), 'held-lines-'));
  const fd = openSync(join(directory, 'output'), 'w');
  try {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', fd, fd],
    });
    return { status: result.status, output: readFileSync(join(directory, 'output'), 'utf8') };
  } finally {
    closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  }
}

function messages(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('held log lines', () => {
  it('writes held lines, in order, when the process exits', () => {
    const result = run(`for (let i = 0; i < 5; i++) logger.info({ i }, 'line ' + i);`);
    expect(result.status).toBe(0);
    expect(messages(result.stdout)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('holds lines until the process ends: a SIGKILL loses them', () => {
    const result = run(`logger.info('held'); process.kill(process.pid, 'SIGKILL');`);
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout).toBe('');
  });

  it('writes a warning at once, with the lines held before it', () => {
    const result = run(`logger.info('before'); logger.warn('warned'); process.kill(process.pid, 'SIGKILL');`);
    expect(result.signal).toBe('SIGKILL');
    expect(messages(result.stdout)).toEqual(['before', 'warned']);
  });

  it('writes held lines on logger.flush(), before its callback', () => {
    const result = run(`logger.info('flushed'); logger.flush(() => process.kill(process.pid, 'SIGKILL'));`);
    expect(result.signal).toBe('SIGKILL');
    expect(messages(result.stdout)).toEqual(['flushed']);
  });

  it('writes held lines on logger.flush() without a callback', () => {
    const result = run(`logger.info('flushed'); logger.flush(); process.kill(process.pid, 'SIGKILL');`);
    expect(result.signal).toBe('SIGKILL');
    expect(messages(result.stdout)).toEqual(['flushed']);
  });

  it('writes held lines on flushSync()', () => {
    const result = run(
      `import { heldLines } from './src/observability/held-lines.ts';
      logger.info('flushed'); heldLines(1, 60_000).flushSync(); process.kill(process.pid, 'SIGKILL');`,
    );
    expect(result.signal).toBe('SIGKILL');
    expect(messages(result.stdout)).toEqual(['flushed']);
  });

  it('writes held lines when the process crashes, before the stack', () => {
    const result = runMerged(`import { createLogger } from './src/observability/logger.ts';
      const logger = createLogger({ level: 'info', format: 'json' }, { holdLinesMs: 60_000 });
      logger.info('before the crash');
      setTimeout(() => { throw new Error('boom'); }, 0);`);
    expect(result.status).toBe(1);
    expect(result.output.indexOf('before the crash'), result.output).toBeGreaterThanOrEqual(0);
    expect(result.output.indexOf('before the crash'), result.output).toBeLessThan(result.output.indexOf('Error: boom'));
  });

  it('writes held lines when an exit listener ahead of its own throws', () => {
    const result = runMerged(`process.on('exit', () => { throw new Error('boom'); });
      const { createLogger } = await import('./src/observability/logger.ts');
      createLogger({ level: 'info', format: 'json' }, { holdLinesMs: 60_000 }).info('before the exit');`);
    expect(result.status).toBe(1);
    expect(result.output.indexOf('before the exit'), result.output).toBeGreaterThanOrEqual(0);
    expect(result.output.indexOf('before the exit'), result.output).toBeLessThan(result.output.indexOf('Error: boom'));
  });

  it('writes once 4 KiB are held, without waiting', () => {
    const result = run(
      `for (let i = 0; i < 100; i++) logger.info({ pad: 'x'.repeat(100) }, 'line ' + i); process.kill(process.pid, 'SIGKILL');`,
    );
    const written = messages(result.stdout);
    expect(written.length).toBeGreaterThan(20);
    expect(written.slice(0, 3)).toEqual(['line 0', 'line 1', 'line 2']);
  });

  it('writes held lines within the interval while the process runs on', async () => {
    const script = `import { createLogger } from './src/observability/logger.ts';
      const logger = createLogger({ level: 'info', format: 'json' }, { holdLinesMs: 20 });
      logger.info('soon');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const first = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(String(chunk))));
      expect(messages(first)).toEqual(['soon']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('keeps the lines of two loggers on one descriptor in order, at the shorter interval', async () => {
    const script = `import { createLogger } from './src/observability/logger.ts';
      const slow = createLogger({ level: 'info', format: 'json' }, { holdLinesMs: 60_000 });
      const fast = createLogger({ level: 'info', format: 'json' }, { holdLinesMs: 20 });
      slow.info('first');
      fast.info('second');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const first = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(String(chunk))));
      expect(messages(first)).toEqual(['first', 'second']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('writes the lines another logger on the descriptor holds before a warning', () => {
    const result = run(
      `const other = createLogger({ level: 'info', format: 'json' }, { holdLinesMs: 30_000 });
      logger.info('before'); other.warn('warned'); process.kill(process.pid, 'SIGKILL');`,
    );
    expect(result.signal).toBe('SIGKILL');
    expect(messages(result.stdout)).toEqual(['before', 'warned']);
  });

  it('writes each line at once when holding is off', () => {
    const result = run(`logger.info('unheld'); process.kill(process.pid, 'SIGKILL');`, 0);
    expect(messages(result.stdout)).toEqual(['unheld']);
  });

  it('gives up the last write before a signal ends the process on a descriptor that would block, rather than wait', () => {
    // A reader that stopped reading: the descriptor answers EAGAIN to the first writes.
    const result = run(`import fs from 'node:fs';
      import { writeHeldLinesAtEnd } from './src/observability/held-lines.ts';
      const write = fs.writeSync;
      let refused = 0;
      fs.writeSync = (...args) => {
        if (refused < 3) {
          refused++;
          throw Object.assign(new Error('write would block'), { code: 'EAGAIN' });
        }
        return write(...args);
      };
      logger.info('held');
      writeHeldLinesAtEnd();
      fs.writeSync = write;
      process.stderr.write('refused ' + refused + '\\n');
      process.kill(process.pid, 'SIGHUP');`);
    expect(result.stderr).toBe('refused 1\n');
    expect(result.stdout).toBe('');
    expect(result.signal).toBe('SIGHUP');
  });
});
