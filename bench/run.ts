import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchResult, report } from './harness.js';

/*
 * `npm run bench` runs every `bench/*.bench.ts`; `npm run bench -- NAME` runs `bench/NAME.bench.ts`.
 * Each module's default export is `() => Promise<BenchResult>`.
 */
const directory = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(directory)
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.slice(0, -'.bench.ts'.length))
  .sort();
const wanted = process.argv.slice(2).filter((argument) => !argument.startsWith('-'));
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const selected = wanted.length > 0 ? wanted : available;
if (selected.length === 0) console.log('No benchmarks yet.');
for (const name of selected) {
  console.log(`running ${name}…`);
  const module = (await import(pathToFileURL(join(directory, `${name}.bench.ts`)).href)) as { default: () => Promise<BenchResult> };
  report(await module.default());
}
