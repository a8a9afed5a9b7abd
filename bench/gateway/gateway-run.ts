import { type ChildProcess, fork, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BenchResult, percentile, round } from '../harness.js';
import type { LoadJob, LoadResult } from './load-generator.js';
import { cpuSeconds, freePort } from './serve-process.js';

/*
 * What the gateway benchmarks share: the load generator driven over IPC, reading a gateway's CPU
 * time around each measured window, and one measurement summarised.
 */

const directory = dirname(fileURLToPath(import.meta.url));
const root = join(directory, '../..');

/**
 * Starts the fake provider (`fake-upstream.ts`) and the baseline proxy in front of it, each a
 * process of its own, added to `children` (for the caller to stop); resolves once both answer.
 */
export async function startUpstreams(
  children: ChildProcess[],
): Promise<{ fake: ChildProcess; fakeUrl: string; baseline: ChildProcess; baselinePort: number }> {
  const tsx = ['--import', 'tsx'];
  const fake = spawn(process.execPath, [...tsx, join(directory, 'fake-upstream.ts')], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(fake);
  const fakeUrl = (JSON.parse(await firstLine(fake, /^\{/, 'the fake provider')) as { url: string }).url;
  const baselinePort = await freePort();
  const baseline = spawn(process.execPath, [...tsx, join(directory, 'baseline-proxy.ts'), fakeUrl, String(baselinePort)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(baseline);
  await firstLine(baseline, /^ready/, 'the baseline proxy');
  return { fake, fakeUrl, baseline, baselinePort };
}

/** One measurement of one subject: rate, latency, the gateway's CPU per request, failures, events per streamed answer. */
export interface Sample {
  ops_per_s: number;
  p50_us: number;
  p99_us: number;
  cpu_us_per_request: number;
  errors: number;
  events_per_answer: number;
}

/** Resolves with the first stdout line of `child` matching `pattern`. */
export function firstLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms`)), timeoutMs);
    lines.on('line', (line) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      lines.removeAllListeners('line');
      child.stdout?.resume();
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready`));
    });
  });
}

/** The load generator in a process of its own (`load-generator.ts`), driven over IPC. */
export class LoadGenerator {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = fork(join(directory, 'load-generator.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  /** Runs `job`, reading `pid`'s CPU time around the measured window. */
  run(job: LoadJob, pid: number): Promise<{ result: LoadResult; cpuSeconds: number }> {
    return new Promise((resolve, reject) => {
      let before = 0;
      let used = 0;
      const listener = (message: { type: string; result?: LoadResult; message?: string }): void => {
        if (message.type === 'measuring') before = cpuSeconds(pid);
        else if (message.type === 'measured') used = cpuSeconds(pid) - before;
        else if (message.type === 'result') {
          this.#child.off('message', listener);
          resolve({ result: message.result as LoadResult, cpuSeconds: used });
        } else if (message.type === 'error') {
          this.#child.off('message', listener);
          reject(new Error(message.message));
        }
      };
      this.#child.on('message', listener);
      this.#child.send(job);
    });
  }

  close(): void {
    this.#child.disconnect();
  }
}

/** The middle value, NaN left out (NaN when nothing is left). */
export function median(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor(sorted.length / 2)] as number);
}

/** One load run as a {@link Sample}, `cpu` being the gateway's CPU seconds over the measured window. */
export function summarise(result: LoadResult, cpu: number): Sample {
  const sorted = [...result.latenciesUs].sort((a, b) => a - b);
  return {
    ops_per_s: round(result.count / result.seconds),
    p50_us: round(percentile(sorted, 50)),
    p99_us: round(percentile(sorted, 99)),
    cpu_us_per_request: round(result.count === 0 ? Number.NaN : (cpu * 1e6) / result.count),
    errors: result.errors,
    events_per_answer: round(result.eventsPerAnswer),
  };
}

/** One row per subject, mode and concurrency: the median of each figure over the rounds. */
export function medianRows(samples: ReadonlyMap<string, readonly Sample[]>): BenchResult['rows'] {
  const fields: Array<keyof Sample> = ['ops_per_s', 'p50_us', 'p99_us', 'cpu_us_per_request', 'errors', 'events_per_answer'];
  return [...samples].map(([key, list]) => ({
    subject: key,
    ...Object.fromEntries(fields.map((field) => [field, round(median(list.map((sample) => sample[field])))])),
  }));
}

/** Stops the load generator and every process a benchmark started (waiting up to 15 s for them), then removes its directory. */
export async function stopAll(load: LoadGenerator, children: readonly ChildProcess[], workDirectory: string): Promise<void> {
  load.close();
  for (const child of children) {
    child.stdin?.end();
    child.kill('SIGTERM');
  }
  await Promise.race([
    Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined))),
    new Promise((resolve) => setTimeout(resolve, 15_000)),
  ]);
  rmSync(workDirectory, { recursive: true, force: true });
}
