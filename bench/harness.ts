import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Figures of one benchmark: names carry their unit (`p50_us`, `ops_per_s`), comparisons are `ratio_…`. */
export type Figures = Record<string, number | string>;

/** What a benchmark module's default export returns. */
export interface BenchResult {
  /** Short name, also the JSON file name: `bench/results/NAME.json`. */
  name: string;
  /** What was measured, in a sentence. */
  description: string;
  /** Rows for the human table: one per measured subject, with its figures. */
  rows: Array<{ subject: string } & Figures>;
  /** The headline comparisons against the baseline measured in the same run. */
  ratios: Figures;
}

/** Latency samples summarised. */
export interface LatencySummary {
  count: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  ops_per_s: number;
}

/** Percentile of sorted samples (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/**
 * Runs `operation` `iterations` times one after another (after `warmup` untimed runs) and
 * summarises per-call latency in microseconds and throughput.
 */
export async function measureSerial(operation: () => unknown, options: { iterations: number; warmup?: number }): Promise<LatencySummary> {
  for (let index = 0; index < (options.warmup ?? Math.ceil(options.iterations / 10)); index++) await operation();
  const samples: number[] = new Array(options.iterations);
  const started = process.hrtime.bigint();
  for (let index = 0; index < options.iterations; index++) {
    const begin = process.hrtime.bigint();
    await operation();
    samples[index] = Number(process.hrtime.bigint() - begin) / 1000;
  }
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summarize(samples, elapsedSeconds);
}

/**
 * Runs `operation` `iterations` times with `concurrency` callers at once; latency per call and
 * overall throughput.
 */
export async function measureConcurrent(
  operation: () => Promise<unknown>,
  options: { iterations: number; concurrency: number; warmup?: number },
): Promise<LatencySummary> {
  for (let index = 0; index < (options.warmup ?? Math.min(50, options.iterations)); index++) await operation();
  const samples: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < options.iterations) {
      next++;
      const begin = process.hrtime.bigint();
      await operation();
      samples.push(Number(process.hrtime.bigint() - begin) / 1000);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summarize(samples, elapsedSeconds);
}

function summarize(samples: number[], elapsedSeconds: number): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return {
    count: sorted.length,
    p50_us: round(percentile(sorted, 50)),
    p99_us: round(percentile(sorted, 99)),
    mean_us: round(mean),
    ops_per_s: round(sorted.length / elapsedSeconds),
  };
}

/** Rounds to 3 significant decimals for readable JSON. */
export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

const resultsDirectory = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Prints the table and writes `bench/results/NAME.json`. */
export function report(result: BenchResult): void {
  mkdirSync(resultsDirectory, { recursive: true });
  const file = join(resultsDirectory, `${result.name}.json`);
  writeFileSync(file, `${JSON.stringify({ ...result, node: process.version, measuredAt: new Date().toISOString() }, null, 2)}\n`);
  console.log(`\n# ${result.name}: ${result.description}`);
  console.table(Object.fromEntries(result.rows.map(({ subject, ...figures }) => [subject, figures])));
  for (const [name, value] of Object.entries(result.ratios)) console.log(`  ${name} = ${value}`);
  console.log(`  → ${file}`);
}
