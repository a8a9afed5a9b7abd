import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = readFileSync(join(root, '.ci/run'), 'utf8');
const SUMMARY = /^tests: \d+ passed, (\d+) failed, \d+ skipped$/;

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** Runs `.ci/run`'s own prelude (its options and exit trap) from the checkout, then `body`. */
function runWith(body: string): { status: number | null; lines: string[] } {
  const prelude = run.slice(0, run.indexOf('step "services"')).replace('cd "$(dirname "$0")/.."', `cd ${JSON.stringify(root)}`);
  expect(prelude).toContain('trap ');
  scratch = mkdtempSync(join(tmpdir(), 'ci-run-'));
  const script = join(scratch, 'run');
  writeFileSync(script, `${prelude}\n${body}\n`);
  const result = spawnSync('bash', [script], { encoding: 'utf8' });
  return { status: result.status, lines: `${result.stdout}`.trimEnd().split('\n') };
}

/** `.ci/run` from its `tested=yes` line to the end: the summary and the exit. */
const ending = run.slice(run.indexOf('tested=yes'));

describe('.ci/run', () => {
  it('ends a run whose build failed with one bare summary line that counts the failure, and fails', () => {
    const { status, lines } = runWith('step "build"\nfalse');
    expect(status).not.toBe(0);
    const last = lines.at(-1) ?? '';
    expect(last).toMatch(SUMMARY);
    expect(Number(SUMMARY.exec(last)?.[1])).toBeGreaterThan(0);
    expect(lines.filter((line) => line.startsWith('tests:'))).toHaveLength(1);
    expect(lines.join('\n')).toContain('"build"');
  });

  it('fails a run whose summary counts a failure, whatever vitest exited with', () => {
    const report = join(mkdtempSync(join(tmpdir(), 'ci-report-')), 'vitest.json');
    try {
      writeFileSync(
        report,
        JSON.stringify({
          numPassedTests: 1,
          numFailedTests: 0,
          numPendingTests: 0,
          numTodoTests: 0,
          testResults: [{ name: join(root, 'src/a.test.ts'), status: 'failed', message: 'boom', assertionResults: [] }],
        }),
      );
      const { status, lines } = runWith(`step "test (npm test)"\nresults=${JSON.stringify(report)}\nstatus=0\n${ending}`);
      expect(lines.at(-1)).toBe('tests: 1 passed, 1 failed, 0 skipped');
      expect(status).not.toBe(0);
    } finally {
      rmSync(join(report, '..'), { recursive: true, force: true });
    }
  });

  it('ends with a bare failing summary line when the report cannot be read', () => {
    const { status, lines } = runWith(`step "test (npm test)"\nresults=/nonexistent/vitest.json\nstatus=0\n${ending}`);
    expect(lines.at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
    expect(status).not.toBe(0);
  });
});
