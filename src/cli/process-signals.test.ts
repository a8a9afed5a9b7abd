import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `script` in a child process that has imported `processSignals` and is kept alive by a timer. */
function runScript(script: string) {
  const source = `import { processSignals } from './src/cli/process-signals.ts';
    setInterval(() => {}, 1000);
    ${script}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { encoding: 'utf8', timeout: 10_000 });
}

/** Runs `body` in a child process after `signals = processSignals(…)` (ending by SIGHUP and SIGQUIT), which says on stdout when it runs a hook. */
function run(body: string) {
  return runScript(`const signals = processSignals({
      beforeSecondStop: () => process.stdout.write('before the second stop\\n'),
      endSignals: ['SIGHUP', 'SIGQUIT'],
      beforeEnd: () => process.stdout.write('before the end\\n'),
    });
    ${body}`);
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

  it.each(['SIGHUP', 'SIGQUIT'] as const)('runs its end hook on %s, then ends the process by that signal', (signal) => {
    const result = run(`process.kill(process.pid, '${signal}');`);
    expect(result.stdout).toBe('before the end\n');
    expect(result.signal).toBe(signal);
  });

  it('ends the process by SIGHUP during the drain too, after its end hook', () => {
    const result = run(`process.kill(process.pid, 'SIGTERM');
      process.stdout.write('stopped by ' + (await signals.stopped) + '\\n');
      process.kill(process.pid, 'SIGHUP');`);
    expect(result.stdout).toBe('stopped by SIGTERM\nbefore the end\n');
    expect(result.signal).toBe('SIGHUP');
  });

  it('leaves the signals to their default once disposed', () => {
    const result = run(`signals.dispose(); process.kill(process.pid, 'SIGTERM');`);
    expect(result.stdout).toBe('');
    expect(result.signal).toBe('SIGTERM');
  });

  it('leaves SIGHUP to its default when it is not an end signal', () => {
    const result = runScript(`processSignals({ beforeEnd: () => process.stdout.write('before the end\\n') });
      process.kill(process.pid, 'SIGHUP');`);
    expect(result.stdout).toBe('');
    expect(result.signal).toBe('SIGHUP');
  });

  it('ends the process by exit code 129 on SIGHUP when told to end by exit (as on Windows), after its end hook', () => {
    const result =
      runScript(`processSignals({ endSignals: ['SIGHUP'], beforeEnd: () => process.stdout.write('before the end\\n'), endByExit: true });
      process.kill(process.pid, 'SIGHUP');`);
    expect(result.stdout).toBe('before the end\n');
    expect([result.status, result.signal]).toEqual([129, null]);
  });

  it('ends the process at once by a SIGHUP sent again while its end hook is stuck', () => {
    const result = runScript(`processSignals({
        endSignals: ['SIGHUP'],
        beforeEnd: () => {
          process.stdout.write('hook stuck\\n');
          process.kill(process.pid, 'SIGHUP');
          const until = Date.now() + 5000;
          while (Date.now() < until) {}
          process.stdout.write('hook done\\n');
        },
      });
      process.kill(process.pid, 'SIGHUP');`);
    expect(result.stdout).toBe('hook stuck\n');
    expect(result.signal).toBe('SIGHUP');
  });
});
