import { describe, expect, it } from 'vitest';
import { summarise, type VitestReport } from './ci-summary.js';

const report = (results: VitestReport['testResults'], counts: Partial<VitestReport> = {}): VitestReport => ({
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  testResults: results,
  ...counts,
});

describe('the summary line of .ci/run', () => {
  it('counts passed, failed and skipped tests', () => {
    const lines = summarise(
      report([{ name: '/repo/src/a.test.ts', status: 'failed', assertionResults: [{ status: 'passed' }, { status: 'failed' }] }], {
        numPassedTests: 1,
        numFailedTests: 1,
        numPendingTests: 2,
        numTodoTests: 1,
      }),
      1,
      '/repo',
    );
    expect(lines).toEqual(['tests: 1 passed, 1 failed, 3 skipped']);
  });

  it('counts a file whose beforeAll failed as a failure, not its tests as skipped in silence', () => {
    const lines = summarise(
      report(
        [
          {
            name: '/repo/src/db/pg.test.ts',
            status: 'failed',
            message: '',
            assertionResults: [{ status: 'skipped' }, { status: 'skipped' }],
          },
          { name: '/repo/src/ok.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] },
        ],
        { numPassedTests: 1, numPendingTests: 2 },
      ),
      1,
      '/repo',
    );
    expect(lines).toEqual([
      'FAIL: src/db/pg.test.ts failed outside its tests (a hook failed); 2 of its tests did not run',
      'tests: 1 passed, 1 failed, 2 skipped',
    ]);
  });

  it('counts a file that failed to import', () => {
    const lines = summarise(
      report([
        { name: '/repo/src/b.test.ts', status: 'failed', message: "Cannot find module './missing.js'\n  at …", assertionResults: [] },
      ]),
      1,
      '/repo',
    );
    expect(lines.at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
    expect(lines[0]).toBe("FAIL: src/b.test.ts failed outside its tests (Cannot find module './missing.js')");
  });

  it('never says 0 failed of a run vitest failed', () => {
    const lines = summarise(
      report([{ name: '/repo/a.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] }], { numPassedTests: 1 }),
      1,
      '/repo',
    );
    expect(lines.at(-1)).toBe('tests: 1 passed, 1 failed, 0 skipped');
    expect(summarise(undefined, 137).at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
  });
});
