import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeProviderServer } from '../src/testing/fake-provider-server.js';
import { type BenchResult, round } from './harness.js';

/*
 * `npm run bench -- startup`: what starting costs, each in a fresh process, in interleaved rounds:
 *   - `import('groundwork')` (dist/), timed inside the process, and the whole process's wall and CPU
 *     time against `node -e 0` (Node's own start); beside it, importing the packages the package's
 *     import used to load every time (Kysely, zod, pino, prom-client, OpenTelemetry API);
 *   - a first call on the embedded defaults: import, `createInfrastructure()`, `initDb()` and one
 *     prompt to the fake provider (a real HTTP server in this process), each step timed;
 *   - `groundwork doctor` on the embedded defaults, and `groundwork --help`, wall and CPU time of the
 *     whole process (CPU is steadier than wall time on a loaded machine: it leaves out waiting for a CPU).
 * The reference build runs the same subjects in the same rounds, new and reference in alternating
 * order: `dist-ref/` when it exists (`cp -r dist dist-ref` before a change, then rebuild), or
 * STARTUP_BENCH_BASELINE_DIST=path/to/another/dist (inside this repository, so it finds the packages).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = 9;
const FLOOR = ['kysely', 'zod', 'pino', 'prom-client', '@opentelemetry/api'];
const GOALS = { import_ms: 200, help_ms: 150, doctor_ms: 500 };
const RECORD_IMPORTS = join(root, 'test/record-imports.mjs');

/** Prints the process's own CPU time on stderr as it exits, however it exits. */
const REPORT_CPU = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const used = process.cpuUsage(); process.stderr.write('\\ncpu_us ' + (used.user + used.system) + '\\n'); });",
)}`;

interface ProcessTimes {
  wall: number;
  cpu: number;
  stdout: string;
}

/**
 * Wall time of the whole process, the CPU time it used (ms), and what it printed. Asynchronous, so
 * that the fake provider in this process answers the child meanwhile.
 */
function processMs(args: string[], cwd: string, env: Record<string, string> = {}): Promise<ProcessTimes> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', REPORT_CPU, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const wall = performance.now() - started;
      if (status !== 0) return reject(new Error(`node ${args.join(' ')} exited with ${status}: ${stderr}`));
      const cpu = /cpu_us (\d+)/.exec(stderr)?.[1];
      if (cpu === undefined) return reject(new Error(`node ${args.join(' ')} reported no CPU time`));
      resolvePromise({ wall, cpu: Number(cpu) / 1000, stdout });
    });
  });
}

/** A module script run with `node --input-type=module -e`. */
function script(code: string): string[] {
  return ['--input-type=module', '-e', code];
}

/** Imports the entry and prints how long that took, in ms. */
function importScript(entry: string): string[] {
  return script(`const t = performance.now(); await import(${JSON.stringify(entry)}); console.log(performance.now() - t);`);
}

/** Imports the floor packages and prints how long that took, in ms. */
const floorScript = script(
  `const t = performance.now(); await Promise.all(${JSON.stringify(FLOOR)}.map((s) => import(s))); console.log(performance.now() - t);`,
);

/** Import, createInfrastructure, initDb and a first prompt to the fake; prints each step's end, in ms since the start. */
function firstCallScript(entry: string): string[] {
  return script(`
    const start = performance.now();
    const groundwork = await import(${JSON.stringify(entry)});
    const imported = performance.now() - start;
    const infra = await groundwork.createInfrastructure({ envFile: false });
    const created = performance.now() - start;
    await infra.initDb();
    const migrated = performance.now() - start;
    const answer = await infra.executePrompt(groundwork.definePrompt({ name: 'startup-bench', version: 1, template: 'Say ok.' }), {});
    const called = performance.now() - start;
    if (answer.content !== 'ok') throw new Error('unexpected answer ' + answer.content);
    await infra.close();
    console.log(JSON.stringify({ imported, created, migrated, called }));
  `);
}

/** The modules and packages `import(entry)` loads, from the import recorder. */
async function importFootprint(entry: string, cwd: string): Promise<{ modules: number; packages: string[] }> {
  const file = join(cwd, `imports-${Math.random().toString(36).slice(2)}.txt`);
  await processMs(['--import', RECORD_IMPORTS, ...script(`await import(${JSON.stringify(entry)});`)], cwd, { RECORD_IMPORTS_FILE: file });
  const loaded = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('loaded file:'));
  const packages = new Set(loaded.flatMap((line) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1] ?? []));
  return { modules: loaded.length, packages: [...packages].sort() };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

export default async function startupBench(): Promise<BenchResult> {
  const builds: Array<{ label: string; dist: string }> = [{ label: '', dist: join(root, 'dist') }];
  const referenceDist =
    process.env.STARTUP_BENCH_BASELINE_DIST !== undefined
      ? resolve(root, process.env.STARTUP_BENCH_BASELINE_DIST)
      : existsSync(join(root, 'dist-ref/index.js'))
        ? join(root, 'dist-ref')
        : undefined;
  if (referenceDist !== undefined) builds.push({ label: ', reference build', dist: referenceDist });
  for (const { dist } of builds)
    if (!existsSync(join(dist, 'index.js'))) throw new Error(`${dist} is missing: run \`npm run build\` first`);
  const entryOf = (dist: string): string => pathToFileURL(join(dist, 'index.js')).href;
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-startup-bench-'));
  const fake = await startFakeProviderServer();
  const providerEnv = { OPENAI_API_KEY: 'bench-key', OPENAI_BASE_URL: fake.openaiBaseUrl, LOG_LEVEL: 'silent' };
  const samples: Record<string, number[]> = {};
  const add = (name: string, value: number): void => {
    samples[name] = [...(samples[name] ?? []), value];
  };
  const timeProcess = async (name: string, args: string[], env?: Record<string, string>): Promise<ProcessTimes> => {
    const times = await processMs(args, directory, env);
    add(`${name} (wall)`, times.wall);
    add(`${name} (cpu)`, times.cpu);
    return times;
  };
  const footprints: Array<{ modules: number; packages: string[] }> = [];
  for (const { dist } of builds) footprints.push(await importFootprint(entryOf(dist), directory));
  const loadBefore = loadavg()[0] as number;
  try {
    // One untimed run of each fills the file system cache and creates the embedded database.
    for (const { dist } of builds) {
      await processMs(importScript(entryOf(dist)), directory);
      await processMs(firstCallScript(entryOf(dist)), directory, providerEnv);
      await processMs([join(dist, 'cli/bin.js'), 'doctor'], directory);
    }
    await processMs(floorScript, root);
    for (let index = 0; index < ROUNDS; index++) {
      // New and reference take turns going first, so neither always runs on a cache the other warmed.
      const ordered = index % 2 === 0 ? builds : [...builds].reverse();
      await timeProcess('node -e 0', ['-e', '0']);
      for (const { label, dist } of ordered) {
        const imported = await timeProcess(`node importing groundwork${label}`, importScript(entryOf(dist)));
        add(`import('groundwork')${label}, in-process`, Number(imported.stdout.trim()));
      }
      add(
        'import floor: kysely, zod, pino, prom-client, @opentelemetry/api, in-process',
        Number((await processMs(floorScript, root)).stdout.trim()),
      );
      for (const { label, dist } of ordered) {
        const run = await timeProcess(`first call on the embedded defaults${label}`, firstCallScript(entryOf(dist)), providerEnv);
        const steps = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
        add(`first call${label}: import, in-process`, steps.imported ?? Number.NaN);
        add(`first call${label}: + createInfrastructure, in-process`, steps.created ?? Number.NaN);
        add(`first call${label}: + initDb, in-process`, steps.migrated ?? Number.NaN);
        add(`first call${label}: + first prompt, in-process`, steps.called ?? Number.NaN);
      }
      for (const { label, dist } of ordered)
        await timeProcess(`groundwork doctor, embedded defaults${label}`, [join(dist, 'cli/bin.js'), 'doctor']);
      for (const { label, dist } of ordered) await timeProcess(`groundwork --help${label}`, [join(dist, 'cli/bin.js'), '--help']);
    }
  } finally {
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  }
  const loadAfter = loadavg()[0] as number;
  const rows = Object.entries(samples).map(([subject, values]) => ({
    subject,
    median_ms: round(median(values)),
    min_ms: round(Math.min(...values)),
  }));
  const at = (subject: string): number => median(samples[subject] ?? [Number.NaN]);
  const nodeWall = at('node -e 0 (wall)');
  const nodeCpu = at('node -e 0 (cpu)');
  const importMs = at("import('groundwork'), in-process");
  const doctor = 'groundwork doctor, embedded defaults';
  const verdict = (value: number, goal: number): string => (value <= goal ? 'met' : 'not met');
  const [current] = footprints;
  const ratios: BenchResult['ratios'] = {
    load_average_1min: `${round(loadBefore)}–${round(loadAfter)}`,
    rounds: ROUNDS,
    import_ms: round(importMs),
    import_modules_loaded: current?.modules ?? Number.NaN,
    import_packages_loaded: current?.packages.join(', ') || 'none',
    import_process_ms: round(at('node importing groundwork (wall)')),
    import_process_cpu_ms: round(at('node importing groundwork (cpu)')),
    import_process_over_node_start: round(at('node importing groundwork (wall)') / nodeWall),
    import_process_cpu_over_node_start: round(at('node importing groundwork (cpu)') / nodeCpu),
    import_process_minus_node_start_ms: round(at('node importing groundwork (wall)') - nodeWall),
    import_floor_ms: round(at('import floor: kysely, zod, pino, prom-client, @opentelemetry/api, in-process')),
    import_over_floor: round(importMs / at('import floor: kysely, zod, pino, prom-client, @opentelemetry/api, in-process')),
    first_call_ms: round(at('first call: + first prompt, in-process')),
    first_call_create_infrastructure_ms: round(at('first call: + createInfrastructure, in-process')),
    first_call_process_ms: round(at('first call on the embedded defaults (wall)')),
    first_call_process_cpu_ms: round(at('first call on the embedded defaults (cpu)')),
    doctor_ms: round(at(`${doctor} (wall)`)),
    doctor_cpu_ms: round(at(`${doctor} (cpu)`)),
    doctor_over_node_start: round(at(`${doctor} (wall)`) / nodeWall),
    doctor_cpu_over_node_start: round(at(`${doctor} (cpu)`) / nodeCpu),
    help_ms: round(at('groundwork --help (wall)')),
    help_cpu_ms: round(at('groundwork --help (cpu)')),
    help_over_node_start: round(at('groundwork --help (wall)') / nodeWall),
    help_cpu_over_node_start: round(at('groundwork --help (cpu)') / nodeCpu),
    node_start_ms: round(nodeWall),
    node_start_cpu_ms: round(nodeCpu),
    goal_import_ms: GOALS.import_ms,
    goal_import: verdict(importMs, GOALS.import_ms),
    goal_import_loads_no_package: current?.packages.length === 0 ? 'met' : 'not met',
    goal_help_ms: GOALS.help_ms,
    goal_help: verdict(at('groundwork --help (wall)'), GOALS.help_ms),
    goal_doctor_ms: GOALS.doctor_ms,
    goal_doctor: verdict(at(`${doctor} (wall)`), GOALS.doctor_ms),
  };
  if (referenceDist !== undefined) {
    const reference = footprints[1];
    const ref = ', reference build';
    Object.assign(ratios, {
      // Relative to the repository, so the committed result names no machine's folders.
      reference_build: relative(root, referenceDist) || '.',
      reference_import_ms: round(at(`import('groundwork')${ref}, in-process`)),
      reference_import_modules_loaded: reference?.modules ?? Number.NaN,
      reference_import_packages_loaded: reference?.packages.join(', ') || 'none',
      import_over_reference_build: round(importMs / at(`import('groundwork')${ref}, in-process`)),
      import_process_over_reference_build: round(at('node importing groundwork (wall)') / at(`node importing groundwork${ref} (wall)`)),
      import_process_cpu_over_reference_build: round(at('node importing groundwork (cpu)') / at(`node importing groundwork${ref} (cpu)`)),
      reference_first_call_ms: round(at(`first call${ref}: + first prompt, in-process`)),
      first_call_over_reference_build: round(
        at('first call: + first prompt, in-process') / at(`first call${ref}: + first prompt, in-process`),
      ),
      first_call_create_infrastructure_over_reference_build: round(
        at('first call: + createInfrastructure, in-process') / at(`first call${ref}: + createInfrastructure, in-process`),
      ),
      first_call_process_over_reference_build: round(
        at('first call on the embedded defaults (wall)') / at(`first call on the embedded defaults${ref} (wall)`),
      ),
      first_call_process_cpu_over_reference_build: round(
        at('first call on the embedded defaults (cpu)') / at(`first call on the embedded defaults${ref} (cpu)`),
      ),
      doctor_over_reference_build: round(at(`${doctor} (wall)`) / at(`${doctor}${ref} (wall)`)),
      doctor_cpu_over_reference_build: round(at(`${doctor} (cpu)`) / at(`${doctor}${ref} (cpu)`)),
      help_over_reference_build: round(at('groundwork --help (wall)') / at(`groundwork --help${ref} (wall)`)),
      help_cpu_over_reference_build: round(at('groundwork --help (cpu)') / at(`groundwork --help${ref} (cpu)`)),
    });
  }
  return {
    name: 'startup',
    description: `Start-up in fresh processes, ${ROUNDS} interleaved rounds (new and reference build alternating first), medians: import('groundwork') from dist/ timed in-process and as a whole process against node -e 0; a first call on the embedded defaults (import, createInfrastructure, initDb, one prompt to the fake provider); doctor and --help as whole-process wall and CPU time; each against the reference build in the same rounds; 1-minute load average before–after.`,
    rows,
    ratios,
  };
}
