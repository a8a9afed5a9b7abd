import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchResult, round } from './harness.js';

/*
 * `npm run bench -- startup`: what starting costs, each in a fresh process, in interleaved rounds:
 *   - `import('groundwork')` (dist/), timed inside the process, against importing only the
 *     packages Groundwork always needs (kysely, zod, pino, prom-client, @opentelemetry/api) —
 *     the floor for an import that loads nothing unconfigured;
 *   - `groundwork doctor` on the embedded defaults, and `groundwork --help`, wall time of the
 *     whole process, against `node -e 0` (Node's own start).
 * STARTUP_BENCH_BASELINE_DIST=path/to/another/dist adds that build's import, for before/after.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = 7;
const FLOOR = ['kysely', 'zod', 'pino', 'prom-client', '@opentelemetry/api'];

function importMs(specifiers: string[]): number {
  const script = `const t = performance.now(); await Promise.all(${JSON.stringify(specifiers)}.map((s) => import(s))); console.log(performance.now() - t);`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return Number(output.trim());
}

function wallMs(args: string[], cwd: string): number {
  const started = performance.now();
  execFileSync(process.execPath, args, { cwd, stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
  return performance.now() - started;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

export default async function startupBench(): Promise<BenchResult> {
  const entry = join(root, 'dist/index.js');
  const bin = join(root, 'dist/cli/bin.js');
  if (!existsSync(entry)) throw new Error('dist/ is missing: run `npm run build` first');
  const baselineDist = process.env.STARTUP_BENCH_BASELINE_DIST;
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-startup-bench-'));
  const samples: Record<string, number[]> = {};
  const add = (name: string, value: number): void => {
    samples[name] = [...(samples[name] ?? []), value];
  };
  try {
    // One untimed run of each fills the file system cache.
    importMs([pathToFileURL(entry).href]);
    wallMs([bin, 'doctor'], directory);
    for (let index = 0; index < ROUNDS; index++) {
      add('node -e 0 (wall)', wallMs(['-e', '0'], directory));
      add('import floor: kysely, zod, pino, prom-client, @opentelemetry/api', importMs(FLOOR));
      add("import('groundwork')", importMs([pathToFileURL(entry).href]));
      if (baselineDist !== undefined)
        add("import('groundwork'), baseline build", importMs([pathToFileURL(join(baselineDist, 'index.js')).href]));
      add('groundwork doctor, embedded defaults (wall)', wallMs([bin, 'doctor'], directory));
      add('groundwork --help (wall)', wallMs([bin, '--help'], directory));
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const rows = Object.entries(samples).map(([subject, values]) => ({
    subject,
    median_ms: round(median(values)),
    min_ms: round(Math.min(...values)),
  }));
  const at = (subject: string): number => median(samples[subject] ?? [Number.NaN]);
  const ratios: BenchResult['ratios'] = {
    import_ms: round(at("import('groundwork')")),
    import_over_floor: round(at("import('groundwork')") / at('import floor: kysely, zod, pino, prom-client, @opentelemetry/api')),
    doctor_ms: round(at('groundwork doctor, embedded defaults (wall)')),
    doctor_minus_node_start_ms: round(at('groundwork doctor, embedded defaults (wall)') - at('node -e 0 (wall)')),
    help_ms: round(at('groundwork --help (wall)')),
  };
  if (baselineDist !== undefined)
    ratios.import_over_baseline_build = round(at("import('groundwork')") / at("import('groundwork'), baseline build"));
  return {
    name: 'startup',
    description: `Start-up in fresh processes, ${ROUNDS} interleaved rounds, medians: import('groundwork') from dist/ timed in-process, against importing only its always-needed packages; doctor and --help as whole-process wall time, against node -e 0.`,
    rows,
    ratios,
  };
}
