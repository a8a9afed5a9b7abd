import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchResult, round } from './harness.js';

/*
 * `npm run bench -- startup`: what starting costs, each in a fresh process, in interleaved rounds:
 *   - `import('groundwork')` (dist/), timed inside the process, against importing only the
 *     packages Groundwork always needs (kysely, zod, pino, prom-client, @opentelemetry/api) —
 *     the floor for an import that loads nothing unconfigured;
 *   - `groundwork doctor` on the embedded defaults, and `groundwork --help`, wall time of the
 *     whole process, against `node -e 0` (Node's own start), and the CPU time each process used
 *     (steadier than wall time on a loaded machine: it leaves out waiting for a CPU).
 * STARTUP_BENCH_BASELINE_DIST=path/to/another/dist adds that build's import and doctor, for before/after
 * (a copy of another build inside node_modules/, e.g. node_modules/.cache/base-dist, so it finds the packages).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = 7;
const FLOOR = ['kysely', 'zod', 'pino', 'prom-client', '@opentelemetry/api'];

function importMs(specifiers: string[]): number {
  const script = `const t = performance.now(); await Promise.all(${JSON.stringify(specifiers)}.map((s) => import(s))); console.log(performance.now() - t);`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return Number(output.trim());
}

/** Prints the process's own CPU time on stderr as it exits, however it exits. */
const REPORT_CPU = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const used = process.cpuUsage(); process.stderr.write('\\ncpu_us ' + (used.user + used.system) + '\\n'); });",
)}`;

/** Wall time of the whole process and the CPU time it used, in ms. */
function processMs(args: string[], cwd: string): { wall: number; cpu: number } {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', REPORT_CPU, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const wall = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  const cpu = /cpu_us (\d+)/.exec(result.stderr)?.[1];
  if (cpu === undefined) throw new Error(`node ${args.join(' ')} reported no CPU time`);
  return { wall, cpu: Number(cpu) / 1000 };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

export default async function startupBench(): Promise<BenchResult> {
  const entry = join(root, 'dist/index.js');
  const bin = join(root, 'dist/cli/bin.js');
  if (!existsSync(entry)) throw new Error('dist/ is missing: run `npm run build` first');
  const baselineDist =
    process.env.STARTUP_BENCH_BASELINE_DIST === undefined ? undefined : resolve(root, process.env.STARTUP_BENCH_BASELINE_DIST);
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-startup-bench-'));
  const samples: Record<string, number[]> = {};
  const add = (name: string, value: number): void => {
    samples[name] = [...(samples[name] ?? []), value];
  };
  const timeProcess = (name: string, args: string[]): void => {
    const { wall, cpu } = processMs(args, directory);
    add(`${name} (wall)`, wall);
    add(`${name} (cpu)`, cpu);
  };
  const loadBefore = loadavg()[0] as number;
  try {
    // One untimed run of each fills the file system cache.
    importMs([pathToFileURL(entry).href]);
    processMs([bin, 'doctor'], directory);
    for (let index = 0; index < ROUNDS; index++) {
      timeProcess('node -e 0', ['-e', '0']);
      add('import floor: kysely, zod, pino, prom-client, @opentelemetry/api', importMs(FLOOR));
      add("import('groundwork')", importMs([pathToFileURL(entry).href]));
      if (baselineDist !== undefined)
        add("import('groundwork'), baseline build", importMs([pathToFileURL(join(baselineDist, 'index.js')).href]));
      timeProcess('groundwork doctor, embedded defaults', [bin, 'doctor']);
      if (baselineDist !== undefined)
        timeProcess('groundwork doctor, embedded defaults, baseline build', [join(baselineDist, 'cli/bin.js'), 'doctor']);
      timeProcess('groundwork --help', [bin, '--help']);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const loadAfter = loadavg()[0] as number;
  const rows = Object.entries(samples).map(([subject, values]) => ({
    subject,
    median_ms: round(median(values)),
    min_ms: round(Math.min(...values)),
  }));
  const at = (subject: string): number => median(samples[subject] ?? [Number.NaN]);
  const floor = at('import floor: kysely, zod, pino, prom-client, @opentelemetry/api');
  const nodeWall = at('node -e 0 (wall)');
  const nodeCpu = at('node -e 0 (cpu)');
  const doctor = 'groundwork doctor, embedded defaults';
  const ratios: BenchResult['ratios'] = {
    load_average_1min: `${round(loadBefore)}–${round(loadAfter)}`,
    import_ms: round(at("import('groundwork')")),
    import_floor_ms: round(floor),
    import_over_floor: round(at("import('groundwork')") / floor),
    doctor_ms: round(at(`${doctor} (wall)`)),
    doctor_cpu_ms: round(at(`${doctor} (cpu)`)),
    doctor_over_node_start: round(at(`${doctor} (wall)`) / nodeWall),
    doctor_cpu_over_node_start: round(at(`${doctor} (cpu)`) / nodeCpu),
    doctor_minus_node_start_ms: round(at(`${doctor} (wall)`) - nodeWall),
    help_ms: round(at('groundwork --help (wall)')),
    help_cpu_ms: round(at('groundwork --help (cpu)')),
    help_over_node_start: round(at('groundwork --help (wall)') / nodeWall),
    help_cpu_over_node_start: round(at('groundwork --help (cpu)') / nodeCpu),
    node_start_ms: round(nodeWall),
    node_start_cpu_ms: round(nodeCpu),
  };
  if (baselineDist !== undefined) {
    ratios.import_over_baseline_build = round(at("import('groundwork')") / at("import('groundwork'), baseline build"));
    ratios.doctor_over_baseline_build = round(at(`${doctor} (wall)`) / at(`${doctor}, baseline build (wall)`));
    ratios.doctor_cpu_over_baseline_build = round(at(`${doctor} (cpu)`) / at(`${doctor}, baseline build (cpu)`));
  }
  return {
    name: 'startup',
    description: `Start-up in fresh processes, ${ROUNDS} interleaved rounds, medians: import('groundwork') from dist/ timed in-process, against importing only its always-needed packages; doctor and --help as whole-process wall and CPU time, against node -e 0; 1-minute load average before–after.`,
    rows,
    ratios,
  };
}
