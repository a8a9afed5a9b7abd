import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `body` in a child process after `signals = processSignals(…)`, which says on stdout when it runs its hook. */
function run(body: string) {
  const script = `import { processSignals } from './src/cli/process-signals.ts';
    const signals = processSignals({ beforeSecondStop: () => process.stdout.write('before the second stop\\n') });
    setInterval(() => {}, 1000);
    ${body}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
}

describe('processSignals', () => {
  it('resolves stopped with the first stop signal, and the process lives on', () => {
    const result = run(`process.kill(process.pid, 'SIGTERM');
      process.stdout.write('stopped by ' + (await signals.stopped) + '\\n');
      signals.dispose();
      process.exit(3);`);
    expect(result.stdout).toBe('stopped by SIGTERM\n');
    expect(result.status).toBe(3);
  });

  it('runs its hook on a second stop signal, then ends the process by that signal', () => {
    const result = run(`process.kill(process.pid, 'SIGINT');
      process.stdout.write('stopped by ' + (await signals.stopped) + '\\n');
      process.kill(process.pid, 'SIGTERM');`);
    expect(result.stdout).toBe('stopped by SIGINT\nbefore the second stop\n');
    expect(result.signal).toBe('SIGTERM');
  });

  it('leaves the signals to their default once disposed', () => {
    const result = run(`signals.dispose(); process.kill(process.pid, 'SIGTERM');`);
    expect(result.stdout).toBe('');
    expect(result.signal).toBe('SIGTERM');
  });
});
