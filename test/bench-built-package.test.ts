import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtPackage } from '../bench/built-package.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'groundwork-built-package-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Writes `path` under the root with its modification time set to `seconds` since the epoch. */
function file(path: string, seconds: number): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), '');
  utimesSync(join(root, path), seconds, seconds);
}

describe("the benchmarks' check of the built package", () => {
  it('hands back dist/ when every compiled source has a build no older than it', () => {
    file('src/db/driver.ts', 100);
    file('src/db/driver.test.ts', 300);
    file('src/db/driver.test-helpers.ts', 300);
    file('src/db/types.d.ts', 300);
    file('src/db/README.md', 300);
    file('dist/db/driver.js', 200);
    expect(builtPackage(root, 'measuring it')).toBe(join(root, 'dist'));
  });

  it('fails, naming npm run build, when dist/ is missing', () => {
    file('src/index.ts', 100);
    expect(() => builtPackage(root, 'measuring it')).toThrow('dist/ is missing: run `npm run build` first (measuring it)');
  });

  it('fails when a source has no build', () => {
    file('src/index.ts', 100);
    file('src/db/driver.ts', 100);
    file('dist/index.js', 200);
    expect(() => builtPackage(root, 'measuring it')).toThrow(
      'dist/ has no build of src/db/driver.ts: run `npm run build` first (measuring it)',
    );
  });

  it('fails when a source changed after its build', () => {
    file('src/db/driver.ts', 300);
    file('dist/db/driver.js', 200);
    expect(() => builtPackage(root, 'measuring it')).toThrow(
      'dist/ is older than src/ (src/db/driver.ts changed since the build): run `npm run build` first (measuring it)',
    );
  });
});
