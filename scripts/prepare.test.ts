import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const here = new URL('.', import.meta.url);
let root: string;

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A checkout as npm prepares a git dependency: dev dependencies installed (stand-ins that write what they would build). */
function checkout(withEsbuild: boolean): string {
  root = mkdtempSync(join(tmpdir(), 'groundwork-prepare-'));
  mkdirSync(join(root, 'scripts'));
  cpSync(new URL('prepare.mjs', here), join(root, 'scripts', 'prepare.mjs'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'groundwork', type: 'module' }));
  writeFileSync(join(root, 'tsconfig.build.json'), '{}');
  const typescript = join(root, 'node_modules', 'typescript');
  mkdirSync(join(typescript, 'bin'), { recursive: true });
  writeFileSync(join(typescript, 'package.json'), JSON.stringify({ name: 'typescript', version: '5.0.0' }));
  writeFileSync(
    join(typescript, 'bin', 'tsc'),
    `const fs = require('node:fs'); fs.mkdirSync(${JSON.stringify(join(root, 'dist'))}, { recursive: true }); fs.writeFileSync(${JSON.stringify(join(root, 'dist', 'index.js'))}, '');`,
  );
  writeFileSync(
    join(root, 'scripts', 'build-ui.mjs'),
    `import { mkdirSync, writeFileSync } from 'node:fs'; mkdirSync(${JSON.stringify(join(root, 'dist', 'ui'))}, { recursive: true }); writeFileSync(${JSON.stringify(join(root, 'dist', 'ui', 'index.html'))}, '');`,
  );
  if (withEsbuild) {
    mkdirSync(join(root, 'node_modules', 'esbuild'), { recursive: true });
    writeFileSync(
      join(root, 'node_modules', 'esbuild', 'package.json'),
      JSON.stringify({ name: 'esbuild', version: '0.0.0', main: 'index.js' }),
    );
    writeFileSync(join(root, 'node_modules', 'esbuild', 'index.js'), '');
  }
  return root;
}

describe('npm prepare', () => {
  it("builds the dashboard's page with the server, as npm run build does", () => {
    const dir = checkout(true);
    const result = spawnSync(process.execPath, [join(dir, 'scripts', 'prepare.mjs')], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(dir, 'dist', 'ui', 'index.html'))).toBe(true);
  });

  it("says so when the dashboard's page cannot be built", () => {
    const dir = checkout(false);
    const result = spawnSync(process.execPath, [join(dir, 'scripts', 'prepare.mjs')], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/dashboard's page is not built: esbuild .* is not installed/);
  });
});
