// `npm install` runs this (the "prepare" script) in a checkout, a git dependency or a folder
// dependency. It builds dist/ with TypeScript, and the dashboard's page with esbuild, as
// `npm run build` does, when TypeScript is installed (a checkout after
// `npm install`, or a git dependency, which npm installs with its dev dependencies). A folder
// installed as a dependency has no dev dependencies: it uses the dist/ already built, or says
// plainly what to do instead of failing with "tsc: not found".
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
if (tsc === undefined) {
  if (existsSync(join(root, 'dist', 'index.js'))) {
    console.log('groundwork: TypeScript is not installed here; using the dist/ already built.');
    process.exit(0);
  }
  console.error(
    'groundwork: cannot build: TypeScript (a dev dependency) is not installed in this checkout, and there is no dist/.\n' +
      '  Run `npm install && npm run build` in the checkout first, or install a packed tarball (`npm pack`).',
  );
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// The dashboard's page, as `npm run build` builds it: without it `/ui` answers 503.
let esbuild;
try {
  esbuild = createRequire(join(root, 'package.json')).resolve('esbuild');
} catch {
  esbuild = undefined;
}
if (esbuild === undefined) {
  console.error("groundwork: the dashboard's page is not built: esbuild (a dev dependency) is not installed; run `npm run build`.");
  process.exit(0);
}
const ui = spawnSync(process.execPath, [join(root, 'scripts', 'build-ui.mjs')], { stdio: 'inherit' });
process.exit(ui.status ?? 1);
