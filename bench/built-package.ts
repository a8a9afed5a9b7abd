import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Whether `npm run build` compiles this file of `src/` into a `.js` of `dist/` (the build skips tests). */
function isBuilt(file: string): boolean {
  return file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.test.ts') && !file.endsWith('.test-helpers.ts');
}

/** The files under `directory` that `npm run build` compiles, as absolute paths. */
function builtSources(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter(isBuilt)
    .map((file) => join(directory, file));
}

/**
 * The built package's folder (`ROOT/dist`), once it is checked to hold a build of the current
 * sources: every file of `ROOT/src` that the build compiles has its `.js` in it, no older than the
 * source. Throws, naming `npm run build` and `purpose`, when dist/ is missing or older than src/.
 * For benchmarks that measure the package as users run it, not the sources tsx compiles.
 */
export function builtPackage(root: string, purpose: string): string {
  const dist = join(root, 'dist');
  const source = join(root, 'src');
  if (!existsSync(dist)) throw new Error(`dist/ is missing: run \`npm run build\` first (${purpose})`);
  for (const file of builtSources(source)) {
    const path = relative(source, file);
    const output = join(dist, path.replace(/\.ts$/, '.js'));
    if (!existsSync(output)) throw new Error(`dist/ has no build of src/${path}: run \`npm run build\` first (${purpose})`);
    if (statSync(file).mtimeMs > statSync(output).mtimeMs) {
      throw new Error(`dist/ is older than src/ (src/${path} changed since the build): run \`npm run build\` first (${purpose})`);
    }
  }
  return dist;
}
