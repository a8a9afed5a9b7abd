// Builds the dashboard's page into dist/ui/: one ES module and one stylesheet (Preact, uPlot and
// the views, minified), and the two HTML pages. Run by `npm run build`, so the package ships it.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the page into `outDir`; answers the gzipped size of its JavaScript and CSS, in bytes. */
export async function buildUi(outDir = join(root, 'dist', 'ui')) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(root, 'ui', 'src', 'main.tsx') },
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const page of ['index.html', 'login.html']) copyFileSync(join(root, 'ui', page), join(outDir, page));
  const gzipped = (name) => gzipSync(readFileSync(join(outDir, name)), { level: 9 }).length;
  return { js: gzipped('app.js'), css: gzipped('app.css') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildUi(process.argv[2]);
  console.log(
    `dashboard page built: app.js ${(sizes.js / 1024).toFixed(1)} KiB gzipped, app.css ${(sizes.css / 1024).toFixed(1)} KiB gzipped`,
  );
}
