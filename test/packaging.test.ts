import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'groundwork-packaging-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The files `npm pack` would put in the package (dist/ as last built). */
function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  return (JSON.parse(output) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
}

describe('the package', () => {
  it('ships its LICENSE and no source maps pointing at sources it does not ship', () => {
    const files = packedFiles();
    expect(files).toContain('LICENSE');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files.filter((file) => /\.test\.|test-helpers/.test(file))).toEqual([]);
  });

  it('has a README that links to no file the package lacks', () => {
    const files = new Set(packedFiles());
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((?!https?:|#|mailto:)([^)\s]+)\)/g)].map((match) => match[1]!);
    expect(links.filter((link) => !files.has(link.replace(/^\.\//, '').replace(/#.*$/, '')))).toEqual([]);
  });

  it('can be required from a CommonJS project on the Node versions it supports', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    // require() of an ES module works without a flag from Node 20.19 on the 20 line and 22.12 on; engines must not allow the others.
    expect(manifest.engines.node).toBe('^20.19.0 || >=22.12.0');
    const project = join(scratch, 'cjs-app');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'cjs-app', version: '1.0.0', type: 'commonjs' }));
    symlinkSync(root, join(project, 'node_modules', 'groundwork'), 'dir');
    const script =
      "const g = require('groundwork'); const t = require('groundwork/testing'); console.log(typeof g.createInfrastructure, typeof t.FakeProviderServer);";
    const result = spawnSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('function function');
  });

  it('installs from a checkout without dev dependencies: prepare uses the built dist/ or says what to do', () => {
    const checkout = join(scratch, 'checkout');
    mkdirSync(join(checkout, 'scripts'), { recursive: true });
    copyFileSync(join(root, 'scripts', 'prepare.mjs'), join(checkout, 'scripts', 'prepare.mjs'));
    writeFileSync(join(checkout, 'package.json'), JSON.stringify({ name: 'groundwork', version: '0.0.0', type: 'module' }));
    const withoutDist = spawnSync(process.execPath, [join(checkout, 'scripts', 'prepare.mjs')], { cwd: checkout, encoding: 'utf8' });
    expect(withoutDist.status).toBe(1);
    expect(withoutDist.stderr).toContain('Run `npm install && npm run build` in the checkout first');
    expect(withoutDist.stderr).not.toMatch(/^\s+at /m);
    mkdirSync(join(checkout, 'dist'));
    writeFileSync(join(checkout, 'dist', 'index.js'), 'export {};\n');
    const withDist = spawnSync(process.execPath, [join(checkout, 'scripts', 'prepare.mjs')], { cwd: checkout, encoding: 'utf8' });
    expect(withDist.status).toBe(0);
    expect(withDist.stdout).toContain('using the dist/ already built');
    expect(existsSync(join(root, 'scripts', 'prepare.mjs'))).toBe(true);
  });
});
