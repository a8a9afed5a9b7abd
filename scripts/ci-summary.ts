/*
 * The last line of `.ci/run`: `tests: N passed, N failed, N skipped`, read from vitest's JSON report
 * (`node --import tsx scripts/ci-summary.ts REPORT STATUS`, STATUS being vitest's exit status).
 *
 * A test file can fail outside its tests: an import that throws, or a `beforeAll` that cannot reach
 * PostgreSQL or Redis. Vitest then reports none of its tests as failed, and those a failed hook
 * kept from running as skipped; each such file counts as one failure here, named above the line,
 * so a service lost in the middle of the run never reads as skipped tests. A run that vitest
 * failed with no failed test or file (an unhandled error), or that left no report, is one failure too.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The part of vitest's JSON report the summary reads. */
export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{ name: string; status: string; message?: string; assertionResults: Array<{ status: string }> }>;
}

/** The lines that explain failures outside tests, then the summary line, last. */
export function summarise(report: VitestReport | undefined, status: number, root = process.cwd()): string[] {
  if (report === undefined) {
    return [`FAIL: vitest exited ${status} and wrote no report`, 'tests: 0 passed, 1 failed, 0 skipped'];
  }
  const lines: string[] = [];
  let failed = report.numFailedTests;
  for (const file of report.testResults) {
    if (file.status !== 'failed' || file.assertionResults.some((test) => test.status === 'failed')) continue;
    const skipped = file.assertionResults.filter((test) => test.status === 'skipped' || test.status === 'pending').length;
    const why = file.message?.split('\n')[0] || 'a hook failed';
    lines.push(
      `FAIL: ${relative(root, file.name)} failed outside its tests (${why})` + (skipped > 0 ? `; ${skipped} of its tests did not run` : ''),
    );
    failed++;
  }
  if (status !== 0 && failed === 0) {
    lines.push(`FAIL: vitest exited ${status} with every test passed: an error outside the tests (see above)`);
    failed = 1;
  }
  lines.push(`tests: ${report.numPassedTests} passed, ${failed} failed, ${report.numPendingTests + report.numTodoTests} skipped`);
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path = '', status = '1'] = process.argv.slice(2);
  let report: VitestReport | undefined;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as VitestReport;
  } catch {
    report = undefined;
  }
  for (const line of summarise(report, Number(status))) console.log(line);
}
