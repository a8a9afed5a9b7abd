// `npm install` runs this (the "prepare" script) in a checkout, a git dependency or a folder
// dependency. It builds dist/ with TypeScript when TypeScript is installed (a checkout after
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
process.exit(result.status ?? 1);
